// Logs: a query box (the README's syntax), the volume by level as stacked bars (drag to narrow
// the range), the lines newest first in a virtualised list (click one for its fields, its raw
// text and the lines around it), a field sidebar with top values (click to filter), and a live
// tail over Server-Sent Events. State in the URL: q, limit, live=1.

import {h} from '../lib/dom.js';
import {timeChart, levelColor, emptyChart} from '../lib/chart.js';
import {vlist} from '../lib/vlist.js';
import {int, bytes} from '../lib/fmt.js';

export const title = 'Logs';

const LIMITS = [500, 1000, 5000, 10000];
const DEFAULT_LIMIT = 1000;
const PAGE = 5000; // the log API's largest page (logs.MaxLimit)
const ROW_PREVIEW = 400; // characters of a message drawn in its row
const RAW_PREVIEW = 8192; // characters of a raw line shown before "expand"
const TAIL_MAX = 10000; // lines kept while tailing
const LEVEL_ORDER = ['fatal', 'critical', 'error', 'warn', 'warning', 'info', 'notice', 'debug', 'trace'];

export async function mount(el, ctx) {
  const input = h('input', {type: 'search', class: 'vg-editor', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Log query',
    placeholder: 'level:error AND service:checkout, "connection refused", http.status:>=500 …'});
  const run = h('button', {type: 'button', class: 'vg-btn vg-primary'}, 'Search');
  const limitSel = h('select', {class: 'vg-select', 'aria-label': 'Lines to show', title: 'Most lines to load'},
    LIMITS.map((n) => h('option', {value: String(n)}, `${int(n)} lines`)));
  const liveBtn = h('button', {type: 'button', class: 'vg-btn', 'aria-pressed': 'false', title: 'Stream new matching lines as they arrive (l)'}, '● Live');
  const errEl = h('div', {hidden: true});
  const noticeEl = h('div', {hidden: true});
  const status = h('div', {class: 'vg-small vg-muted'});
  const histo = h('div', {class: 'logs-histo'});
  const histoWrap = h('div', {class: 'vg-card', style: {padding: '8px 12px'}},
    h('div', {class: 'vg-row vg-small vg-muted', style: {justifyContent: 'space-between'}},
      h('span', null, 'Volume by level · drag across the bars to narrow the range'), status), histo);
  const side = h('aside', {class: 'logs-side', 'aria-label': 'Fields'});
  const listEl = h('div', {class: 'logs-list', role: 'list', 'aria-label': 'Log lines, newest first'});
  const listWrap = h('div', {style: {minWidth: 0}}, noticeEl, listEl);

  el.append(
    h('h1', null, 'Logs'),
    h('div', {class: 'vg-query'}, h('div', {class: 'vg-editor-wrap'}, input), limitSel, run, liveBtn),
    errEl,
    h('div', {class: 'vg-hint', style: {margin: '4px 0 10px'}},
      'Words, "phrases", field:value, field:>=N, wildcards (service:check*), AND / OR / NOT, +must -mustnot, parentheses.'),
    histoWrap,
    h('div', {class: 'logs-layout', style: {marginTop: '12px'}}, side, listWrap),
  );

  const uiState = new Map(); // line id -> {full: bool, context: [...]} for expanded rows
  let lines = [];
  let total = 0;
  // The API counts exactly up to its total_limit; past it total is a lower bound
  // (total_relation "gte", as Elasticsearch says it) and the page says "at least".
  let totalAtLeast = false;
  let abort = null;
  let chart = null;
  let tail = null;
  const openFields = new Set(['level', 'service']);

  const state = () => {
    const p = ctx.params;
    const limit = parseInt(p.get('limit') || '', 10);
    return {q: p.get('q') || '', limit: LIMITS.includes(limit) ? limit : DEFAULT_LIMIT, live: p.get('live') === '1'};
  };

  const list = vlist(listEl, {
    rowHeight: 24,
    key: (l) => l.id,
    renderRow: (l) => row(l),
    renderDetail: (l) => detail(l),
  });

  // Rows show the date only when the range spans more than a day (set per search, not per
  // row: rows are drawn on every scroll frame).
  let datesInRows = false;
  // A class, not a computed colour: reading CSS variables per row forces a style recalc on
  // every scroll frame.
  const levelClass = (lv) => {
    const l = String(lv || '').toLowerCase();
    if (/^(fatal|critical|crit|error|err|alert|emerg)/.test(l)) return 'lvl-error';
    if (/^warn/.test(l)) return 'lvl-warn';
    if (/^(info|notice)/.test(l)) return 'lvl-info';
    if (/^(debug|trace)/.test(l)) return 'lvl-debug';
    return 'lvl-other';
  };

  function row(l) {
    const msg = l.message || l.raw || '';
    const long = msg.length > ROW_PREVIEW;
    return h('div', {class: 'log-row'},
      h('span', {class: 'log-time'}, ctx.fmtTime(l.t, {date: datesInRows, ms: true})),
      h('span', {class: 'log-lvl ' + levelClass(l.level)}, l.level || '–'),
      l.service ? h('span', {class: 'log-svc'}, l.service) : null,
      h('span', {class: 'log-msg'}, long ? msg.slice(0, ROW_PREVIEW) + '…' : msg),
      long ? h('span', {class: 'log-trunc', title: 'Open the line to see all of it'}, `truncated · ${bytes(msg.length)}`) : null,
      l.trace_id ? h('a', {href: `/traces/${encodeURIComponent(l.trace_id)}`, class: 'vg-small', title: 'Open the trace'}, 'trace') : null);
  }

  function fieldRows(l) {
    const out = [];
    const add = (k, v, node) => out.push(h('div', {class: 'k'}, k), h('div', {class: 'v'}, node || String(v)));
    add('time', ctx.fmtTime(l.t, {ms: true}) + ' · ' + l.time);
    if (l.level) add('level', l.level, filterable('level', l.level));
    if (l.service) add('service', l.service, filterable('service', l.service));
    if (l.trace_id) {
      add('trace_id', l.trace_id, h('span', null, h('a', {href: `/traces/${encodeURIComponent(l.trace_id)}`}, l.trace_id), ' ',
        h('button', {type: 'button', class: 'vg-btn', onclick: () => addFilter('trace_id', l.trace_id)}, 'lines of this trace')));
    }
    if (l.span_id) add('span_id', l.span_id);
    for (const k of Object.keys(l.fields || {}).sort()) {
      const v = l.fields[k];
      add(k, v, filterable(k, typeof v === 'string' ? v : JSON.stringify(v)));
    }
    return out;
  }

  function filterable(k, v) {
    const text = v.length > 2000 ? v.slice(0, 2000) + `… (${bytes(v.length)})` : v;
    return h('span', null, text, ' ',
      v.length <= 2000 ? h('button', {type: 'button', class: 'vg-btn', title: `Add ${k}:${v} to the query`, onclick: () => addFilter(k, v)}, '+') : null,
      v.length <= 2000 ? h('button', {type: 'button', class: 'vg-btn', title: `Exclude ${k}:${v}`, onclick: () => addFilter(k, v, true)}, '−') : null);
  }

  function detail(l) {
    const st = uiState.get(l.id) || {};
    const raw = l.raw || '';
    const big = raw.length > RAW_PREVIEW && !st.full;
    const pre = h('pre', {class: 'log-raw'}, big ? raw.slice(0, RAW_PREVIEW) + '…' : raw);
    const actions = h('div', {class: 'log-actions'},
      big ? h('button', {type: 'button', class: 'vg-btn', onclick: () => {
        uiState.set(l.id, {...st, full: true});
        list.refresh();
      }}, `expand (${bytes(raw.length)})`) : null,
      h('button', {type: 'button', class: 'vg-btn', onclick: () => loadContext(l)}, 'lines around it'));
    const parts = [h('div', {class: 'log-fields'}, fieldRows(l)), pre, actions];
    if (st.context) parts.push(contextBlock(st.context, l.id));
    return h('div', null, parts);
  }

  function contextBlock(c, id) {
    if (c.error) return h('div', {class: 'vg-error'}, c.error);
    const lineOf = (x) => h('div', {class: 'vg-mono', style: {whiteSpace: 'pre', overflow: 'hidden', textOverflow: 'ellipsis', fontWeight: x.id === id ? '700' : 'normal'}},
      `${ctx.fmtTime(Date.parse(x.time), {date: false, ms: true})} ${(x.level || '-').padEnd(5)} ${x.service || ''} ${(x.message || x.raw || '').slice(0, 300)}`);
    return h('div', {class: 'vg-card', style: {marginTop: '8px', padding: '6px 8px', maxHeight: '260px', overflow: 'auto'}},
      h('div', {class: 'vg-small vg-muted'}, 'Lines around it, oldest first'), [...c.before, c.line, ...c.after].map(lineOf));
  }

  async function loadContext(l) {
    const st = uiState.get(l.id) || {};
    try {
      const r = await ctx.api('/api/v1/logs/context', {id: l.id, before: 5, after: 5});
      uiState.set(l.id, {...st, context: r.data});
    } catch (err) {
      uiState.set(l.id, {...st, context: {error: err.message}});
    }
    list.refresh();
  }

  function quoteValue(v) {
    return /^[A-Za-z0-9_.\-]+$/.test(v) ? v : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  }

  function addFilter(k, v, exclude = false) {
    const term = `${exclude ? 'NOT ' : ''}${k}:${quoteValue(String(v))}`;
    const q = state().q.trim();
    ctx.setParams({q: q ? `${q} AND ${term}` : term});
  }

  // ---- queries ----

  const iso = (ms) => new Date(ms).toISOString();
  /** "2026-11-27T10:00:00.123456789Z" -> Unix nanoseconds as a string, exact. */
  function nanos(t) {
    const ms = Date.parse(t);
    const frac = (/\.(\d+)/.exec(t) || [, ''])[1].padEnd(9, '0').slice(3, 9);
    return (BigInt(Math.floor(ms)) * 1000000n + BigInt(frac || '0')).toString();
  }

  function normalise(l) {
    l.t = Date.parse(l.time);
    return l;
  }

  async function search(reason) {
    // An auto-refresh keeps the reader's place in the list.
    const keepScroll = reason === 'refresh';
    const st = state();
    input.value = st.q;
    limitSel.value = String(st.limit);
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    const {start, end} = ctx.range();
    datesInRows = end - start > 20 * 3600e3;
    ctx.busy(listWrap, true);
    ctx.busy(histoWrap, true);
    const vol = volume(st, start, end, signal);
    // The field sidebar waits for the lines: the log API runs a few queries at a time
    // (logs.query_max_concurrency), and the lines matter most.
    let fields = null;
    try {
      const got = [];
      const seen = new Set();
      let pageEnd = iso(end);
      total = 0;
      totalAtLeast = false;
      for (let first = true; got.length < st.limit; first = false) {
        // After the first page, end is the oldest line's time + 1 ns (the API's end is
        // exclusive): that line comes again, so ask for one more.
        const want = Math.min(PAGE, st.limit - got.length + (first ? 0 : 1));
        const r = await ctx.api('/api/v1/logs/query', {q: st.q, start: iso(start), end: pageEnd, limit: want, direction: 'backward'}, {signal});
        if (first) {
          total = r.data.total;
          totalAtLeast = r.data.total_relation === 'gte';
        }
        let added = 0;
        for (const l of r.data.lines) {
          if (seen.has(l.id)) continue;
          seen.add(l.id);
          got.push(normalise(l));
          added++;
        }
        // Stop when this page was the last one, or made no progress (lines sharing one
        // timestamp beyond a page: the notice below says what is missing).
        if (!added || r.data.lines.length < want || (!totalAtLeast && got.length >= total)) break;
        pageEnd = (BigInt(nanos(got[got.length - 1].time)) + 1n).toString();
        if (first) {
          lines = got.slice();
          list.setItems(lines, {keepScroll}); // show the first page while the rest loads
        }
      }
      if (signal.aborted) return;
      ctx.error(errEl, null);
      lines = got;
      list.setItems(lines, {keepScroll});
      for (const id of uiState.keys()) if (!seen.has(id)) uiState.delete(id);
      const totalText = totalAtLeast ? `at least ${int(total)}` : int(total);
      ctx.notice(noticeEl, lines.length < total || totalAtLeast
        ? `Showing ${int(lines.length)} of ${totalText} lines, newest first — narrow the range or the query${st.limit < LIMITS[LIMITS.length - 1] ? ', or load more lines' : ''}.`
        : null);
      if (!lines.length) {
        ctx.notice(noticeEl, st.q ? 'No lines match this query in this range.' : 'No lines in this range.');
      }
      status.textContent = totalAtLeast ? `${int(total)}+ matching lines` : `${int(total)} matching lines`;
      fields = loadFields(st, start, end, signal);
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) ctx.busy(listWrap, false);
    }
    await Promise.all([vol, fields]);
    if (!signal.aborted) ctx.busy(histoWrap, false);
  }

  async function volume(st, start, end, signal) {
    const step = ctx.step(120);
    try {
      const r = await ctx.api('/api/v1/logs/volume', {q: st.q, start: iso(start), end: iso(end), step: step + 's', by: 'level'}, {signal});
      const res = r.data.result;
      const stepMs = (r.data.step || step) * 1000;
      // A full grid of buckets (the API leaves out empty ones), so bars keep one width.
      const first = Math.floor(start / stepMs) * stepMs;
      const times = [];
      for (let t = first; t < end; t += stepMs) times.push(t);
      const at = (ts) => Math.round((ts * 1000 - first) / stepMs);
      const rank = (lv) => {
        const i = LEVEL_ORDER.indexOf(String(lv).toLowerCase());
        return i < 0 ? LEVEL_ORDER.length + (lv ? 0 : 1) : i;
      };
      res.sort((a, b) => rank(a.metric.level || '') - rank(b.metric.level || ''));
      const series = res.map((s) => {
        const values = new Array(times.length).fill(0);
        for (const [ts, c] of s.values) {
          const i = at(ts);
          if (i >= 0 && i < values.length) values[i] += Number(c);
        }
        const lv = s.metric.level || '';
        return {label: lv || 'no level', values, color: levelColor(lv)};
      });
      if (chart) chart.destroy();
      chart = null;
      if (!series.length) {
        emptyChart(histo, 'No lines in this range.', 110);
        return;
      }
      histo.replaceChildren();
      chart = timeChart(histo, {
        kind: 'bars', stacked: true, times, series, height: 130, tz: ctx.tz, yFmt: (v) => int(v),
        xRange: [start, end],
        onSelect: ([a, b]) => ctx.setRange(a, b),
      });
    } catch (err) {
      // A refused query is explained next to the query box; the previous bars stay.
      if (err.name === 'AbortError' || err.status === 400) return;
      if (chart) chart.destroy();
      chart = null;
      histo.replaceChildren(h('div', {class: 'vg-error'}, 'Volume: ' + err.message));
    }
  }

  async function loadFields(st, start, end, signal) {
    let names;
    try {
      names = (await ctx.api('/api/v1/logs/fields', {start: iso(start), end: iso(end)}, {signal})).data || [];
    } catch (err) {
      if (err.name !== 'AbortError') side.replaceChildren(h('div', {class: 'vg-error'}, 'Fields: ' + err.message));
      return;
    }
    const first = ['level', 'service', 'trace_id'];
    names = [...first.filter((n) => names.includes(n)), ...names.filter((n) => !first.includes(n) && n !== 'message').sort()];
    const loads = [];
    const blocks = names.map((name) => {
      const body = h('div', {class: 'vg-small vg-muted', style: {paddingLeft: '12px'}}, 'loading…');
      const d = h('details', {open: openFields.has(name), 'data-field': name}, h('summary', null, name), body);
      const load = () => fieldValues(name, st, start, end, body, signal);
      d.addEventListener('toggle', () => {
        if (d.open) {
          openFields.add(name);
          load();
        } else openFields.delete(name);
      });
      if (d.open) loads.push(load());
      return d;
    });
    // Swap in the new sidebar once the open fields have their values; a query the API refused
    // (explained next to the query box) leaves the previous sidebar in place.
    const ok = await Promise.all(loads);
    if (signal.aborted || ok.includes(false)) return;
    side.replaceChildren(h('div', {class: 'vg-small vg-muted', style: {marginBottom: '4px'}}, `${names.length} fields · top values of matching lines`), ...blocks);
  }

  async function fieldValues(name, st, start, end, body, signal) {
    try {
      const r = await ctx.api(`/api/v1/logs/field/${encodeURIComponent(name)}/values`, {q: st.q, start: iso(start), end: iso(end), limit: 10}, {signal});
      const vals = r.data.values || [];
      const max = Math.max(1, ...vals.map((v) => v.count));
      body.replaceChildren(...vals.map((v) => h('div', {class: 'fv', title: `${name}:${v.value} — click to filter`, onclick: () => addFilter(name, v.value)},
        h('span', {class: 'val'}, v.value === '' ? '(empty)' : v.value),
        h('span', {class: 'cnt'}, int(v.count)),
        h('span', {class: 'bar', style: {width: Math.max(2, Math.round((v.count / max) * 40)) + 'px'}}))),
      ...(vals.length ? [] : [h('div', {class: 'vg-muted', style: {paddingLeft: '12px'}}, 'no values')]));
      if (r.data.lines > 0 && vals.length) body.append(h('div', {class: 'vg-muted', style: {paddingLeft: '12px'}}, `of ${int(r.data.lines)} lines`));
      return true;
    } catch (err) {
      if (err.name === 'AbortError' || err.status === 400) return false;
      body.replaceChildren(h('div', {class: 'vg-err-text'}, err.message));
      return true;
    }
  }

  // ---- live tail ----

  function startTail() {
    stopTail();
    const q = state().q;
    const es = new EventSource('/api/v1/logs/tail' + (q ? '?q=' + encodeURIComponent(q) : ''));
    let pending = [];
    let raf = 0;
    let received = 0;
    const flush = () => {
      raf = 0;
      const batch = pending.reverse(); // newest first
      pending = [];
      list.prepend(batch, {max: TAIL_MAX});
      lines = list.items;
      status.textContent = `live: ${int(received)} new lines${lines.length >= TAIL_MAX ? ` · keeping the newest ${int(TAIL_MAX)}` : ''}`;
    };
    es.onmessage = (e) => {
      try {
        pending.push(normalise(JSON.parse(e.data)));
        received++;
      } catch {
        return;
      }
      if (!raf) raf = requestAnimationFrame(flush);
    };
    es.addEventListener('end', () => stopTail());
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        status.textContent = 'live tail closed by the server';
        liveBtn.setAttribute('aria-pressed', 'false');
      } else {
        status.textContent = 'live tail reconnecting…';
      }
    };
    es.onopen = () => (status.textContent = `live: ${int(received)} new lines`);
    tail = {es, q, stop: () => cancelAnimationFrame(raf)};
    liveBtn.setAttribute('aria-pressed', 'true');
  }

  function stopTail() {
    if (!tail) return;
    tail.es.close();
    tail.stop();
    tail = null;
    liveBtn.setAttribute('aria-pressed', 'false');
  }

  // ---- wiring ----

  const submit = () => {
    const q = input.value.trim();
    if (q === state().q) return update({reason: 'run'});
    ctx.setParams({q});
  };
  run.addEventListener('click', submit);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      submit();
    }
  });
  el.addEventListener('vigil:run', submit);
  limitSel.addEventListener('change', () => ctx.setParams({limit: limitSel.value === String(DEFAULT_LIMIT) ? null : limitSel.value}));
  const toggleLive = () => ctx.setParams({live: state().live ? null : '1'});
  liveBtn.addEventListener('click', toggleLive);
  ctx.shortcut('/', 'Focus the log query', () => input.focus());
  ctx.shortcut('l', 'Start or stop the live tail', toggleLive);

  let lastKey = '';
  async function update(c) {
    const st = state();
    const key = JSON.stringify([st.q, st.limit]);
    // While tailing, an auto-refresh tick has nothing to add.
    if (c && c.reason === 'refresh' && st.live) return;
    if (!(c && c.reason === 'params' && key === lastKey)) {
      lastKey = key;
      await search(c && c.reason);
    }
    if (st.live && (!tail || tail.q !== st.q)) startTail();
    else if (!st.live) stopTail();
  }
  await update();
  return {
    update,
    unmount() {
      stopTail();
      if (abort) abort.abort();
      if (chart) chart.destroy();
      list.destroy();
    },
  };
}
