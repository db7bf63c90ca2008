// The page context (ctx) the shell hands every page, and the pieces behind it: time ranges,
// time formatting in the displayed zone, the API client and the standard notice, error and
// busy states. See /work/notes/ui-contract.md ("ctx") for the contract; pages rely on
// exactly what is documented here.

import {h} from './dom.js';
import {parseDuration} from './fmt.js';

/** The URL keys the shell owns; ctx.params never shows them. */
export const SHELL_KEYS = ['from', 'to', 'tz', 'refresh'];

export const DEFAULT_FROM = 'now-1h';
export const DEFAULT_TO = 'now';

/** An API answer that is not a success: status is the HTTP status, message readable. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * api(path, params?, {method, body, signal, headers, meta}?) -> the parsed JSON (or text when the
 * answer is not JSON). params: an object; null/undefined/'' values are left out, arrays repeat
 * the key. meta: an object that gets .sources, the X-Vigil-Sources header (which metrics
 * sources a query read, e.g. "local=ok, mimir=ok"). body: a string, URLSearchParams, FormData or Blob is sent as is, anything else as
 * JSON. Throws ApiError with the server's own message (Prometheus {"error"}, Alertmanager
 * {"message"} or a JSON string, or the plain text). 401 sends the browser to /login.
 */
export async function api(path, params, {method = 'GET', body, signal, headers, meta} = {}) {
  let url = path;
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v == null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else q.append(k, v);
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const init = {method, credentials: 'same-origin', signal, headers: {Accept: 'application/json', ...headers}};
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof URLSearchParams || body instanceof FormData || body instanceof Blob) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  const resp = await fetch(url, init);
  if (resp.status === 401) {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, 'Login required.');
  }
  if (meta) meta.sources = resp.headers.get('X-Vigil-Sources') || '';
  const text = await resp.text();
  let data;
  if ((resp.headers.get('Content-Type') || '').includes('json') && text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!resp.ok || (data && typeof data === 'object' && data.status === 'error')) {
    throw new ApiError(resp.status, readableError(resp, data, text));
  }
  return data !== undefined ? data : text;
}

function readableError(resp, data, text) {
  if (typeof data === 'string' && data) return data;
  if (data && typeof data === 'object') {
    if (data.error) return String(data.error);
    if (data.message) return String(data.message);
  }
  const t = (text || '').trim();
  if (t && t.length < 2000) return t;
  return `${resp.status} ${resp.statusText || 'error'} from ${new URL(resp.url).pathname}`;
}

/** True for the error a cancelled request throws: pages ignore it. */
export function isAbort(err) {
  return !!err && err.name === 'AbortError';
}

// ---- time ---------------------------------------------------------------------------------

const pad = (n, w = 2) => String(n).padStart(w, '0');
let zoneFmt;

/** The local zone's short name at d ("CET", "PDT", or "GMT+5:30" where none exists). */
export function localZone(d) {
  zoneFmt ||= new Intl.DateTimeFormat('en-US', {timeZoneName: 'short'});
  const p = zoneFmt.formatToParts(d).find((x) => x.type === 'timeZoneName');
  if (p) return p.value;
  const off = -d.getTimezoneOffset();
  return `UTC${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/**
 * fmtTime(ms, tz, {date = true, ms = false, zone = true}) -> "2026-11-27 10:04:05 UTC" in the
 * displayed zone, always naming it.
 */
export function fmtTime(t, tz, {date = true, ms = false, zone = true} = {}) {
  if (t == null || !isFinite(t)) return '–';
  const d = new Date(t);
  const utc = tz === 'utc';
  const Y = utc ? d.getUTCFullYear() : d.getFullYear();
  const M = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const D = utc ? d.getUTCDate() : d.getDate();
  const hh = utc ? d.getUTCHours() : d.getHours();
  const mm = utc ? d.getUTCMinutes() : d.getMinutes();
  const ss = utc ? d.getUTCSeconds() : d.getSeconds();
  let s = `${hh === 24 ? '00' : pad(hh)}:${pad(mm)}:${pad(ss)}`;
  if (ms) s += '.' + pad(d.getUTCMilliseconds(), 3);
  if (date) s = `${Y}-${pad(M)}-${pad(D)} ${s}`;
  if (zone) s += ' ' + (utc ? 'UTC' : localZone(d));
  return s;
}

/** The zone name shown next to typed times: "UTC" or the local zone now. */
export function zoneName(tz) {
  return tz === 'utc' ? 'UTC' : localZone(new Date());
}

const RELATIVE = /^now(?:\s*([+-])\s*([0-9a-z.]+))?$/i;
const TYPED = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?$/;

/**
 * parseTime(s, tz, now = Date.now()) -> ms since epoch, or NaN. Accepts "now", "now-1h",
 * Unix seconds (10 digits) or milliseconds (13), RFC 3339 with a zone, and typed times
 * "2026-11-27 10:00[:05[.123]]" read in the displayed zone (tz 'utc' or 'local').
 */
export function parseTime(s, tz, now = Date.now()) {
  s = String(s ?? '').trim();
  if (!s) return NaN;
  let m = RELATIVE.exec(s);
  if (m) {
    if (!m[1]) return now;
    const d = parseDuration(m[2]);
    return isNaN(d) ? NaN : now + (m[1] === '-' ? -d : d);
  }
  if (/^\d{1,10}(\.\d+)?$/.test(s)) return Math.round(parseFloat(s) * 1000);
  if (/^\d{11,13}$/.test(s)) return parseInt(s, 10);
  m = TYPED.exec(s);
  if (m) {
    const [Y, M, D, hh = 0, mm = 0, ss = 0] = m.slice(1, 7).map((x) => (x == null ? 0 : parseInt(x, 10)));
    const ms = m[7] ? Math.round(parseFloat('0.' + m[7]) * 1000) : 0;
    if (M < 1 || M > 12 || D < 1 || D > 31 || hh > 23 || mm > 59 || ss > 60) return NaN;
    return tz === 'utc' ? Date.UTC(Y, M - 1, D, hh, mm, ss, ms) : new Date(Y, M - 1, D, hh, mm, ss, ms).getTime();
  }
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:?\d\d)$/i.test(s)) {
    const t = Date.parse(s);
    return isNaN(t) ? NaN : t;
  }
  return NaN;
}

/** resolveRange(from, to, tz) -> {start, end} in ms; bad or reversed values fall back to the last hour. */
export function resolveRange(from, to, tz, now = Date.now()) {
  let end = parseTime(to || DEFAULT_TO, tz, now);
  let start = parseTime(from || DEFAULT_FROM, tz, now);
  if (isNaN(end)) end = now;
  if (isNaN(start) || start >= end) start = end - 3600e3;
  return {start, end};
}

const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** stepFor(range, points) -> a round step in seconds giving about `points` points (at least 1 s). */
export function stepFor({start, end}, points = 250) {
  const raw = (end - start) / 1000 / Math.max(1, points);
  return NICE_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 86400) * 86400;
}

// ---- standard states ----------------------------------------------------------------------

/** notice(el, text): el shows the standard "capped" notice; a falsy text clears and hides el. */
export function notice(el, text) {
  el.replaceChildren();
  el.hidden = !text;
  if (text) el.append(h('div', {class: 'vg-notice', role: 'status'}, text));
}

/**
 * error(el, err): el shows a readable error box (the server's message, with its status); a
 * falsy err clears and hides el. Cancelled requests show nothing.
 */
export function error(el, err) {
  el.replaceChildren();
  if (err && err.name === 'AbortError') return;
  el.hidden = !err;
  if (!err) return;
  const status = err.status ? ` (HTTP ${err.status})` : '';
  el.append(h('div', {class: 'vg-error', role: 'alert'},
    h('strong', null, (err.status >= 500 ? 'Server error' : 'Error') + status + ': '),
    h('span', {class: 'vg-error-msg'}, err.message || String(err))));
}

/** busy(el, on): a spinner over el while a query runs; el's previous content stays visible. */
export function busy(el, on) {
  el.classList.toggle('vg-busy', !!on);
  el.setAttribute('aria-busy', on ? 'true' : 'false');
}
