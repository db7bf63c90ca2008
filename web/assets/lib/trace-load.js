// Loading one trace for the waterfall. The Jaeger answer (/api/traces/<id>) is read as a
// stream while counting its spans: past maxSpans the download stops and the caller switches
// to the tree API (/api/v1/traces/<id>/tree), so a 100,000-span trace is never parsed whole
// on the page's thread.
import { ApiError } from './ctx.js';

// Each span of the Jaeger JSON has exactly one "operationName" key.
const MARK = '"operationName"';

// fetchJaeger returns {trace} (the Jaeger trace object) or {tooMany: n} when the trace has
// more than maxSpans spans (n: spans seen before stopping). Errors are ApiErrors with the
// server's message; a missing trace is an ApiError with status 404.
export async function fetchJaeger(id, { signal, maxSpans = 10000 } = {}) {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal?.addEventListener('abort', stop);
  try {
    const resp = await fetch(`/api/traces/${encodeURIComponent(id)}`, {
      credentials: 'same-origin', signal: ctl.signal, headers: { Accept: 'application/json' },
    });
    if (resp.status === 401) {
      location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
      throw new ApiError(401, 'Login required.');
    }
    if (!resp.ok) throw new ApiError(resp.status, jaegerMessage(await resp.text(), resp));
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    const parts = [];
    let count = 0, tail = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = dec.decode(value, { stream: true });
      parts.push(chunk);
      // Count marks in this chunk, including one split across the previous chunk's end.
      const text = tail + chunk;
      for (let k = text.indexOf(MARK); k >= 0; k = text.indexOf(MARK, k + MARK.length)) {
        if (k + MARK.length > tail.length) count++;
      }
      tail = text.slice(-(MARK.length - 1));
      if (count > maxSpans) {
        ctl.abort();
        return { tooMany: count };
      }
    }
    parts.push(dec.decode());
    const t = performance.now();
    const ans = JSON.parse(parts.join(''));
    performance.measure('vigil.trace.parse', { start: t, end: performance.now() });
    const tr = ans.data && ans.data[0];
    if (!tr) throw new ApiError(404, jaegerMessage(JSON.stringify(ans), resp));
    return { trace: tr, warnings: (ans.errors || []).map(e => e.msg) };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

function jaegerMessage(text, resp) {
  try {
    const j = JSON.parse(text);
    if (j.errors && j.errors.length) return j.errors.map(e => e.msg).join('; ');
    if (typeof j === 'string') return j;
    if (j.error) return j.error;
  } catch { /* not JSON: use the text */ }
  const t = (text || '').trim();
  return t && t.length < 500 ? t : `${resp.status} ${resp.statusText}`;
}

// isRouteMissing tells a 404 of an endpoint this server does not have (the router's plain
// "404 page not found") from a 404 for a trace it does not hold.
export function isRouteMissing(err) {
  return err && err.status === 404 && /404 page not found/i.test(err.message || '');
}

// padTraceID gives the 32-hex-digit form logs carry: Jaeger drops the high half when zero.
export function padTraceID(id) {
  return id.length < 32 ? id.padStart(32, '0') : id;
}
