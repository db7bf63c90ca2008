// Seeds for the Traces, Alerts and SLO browser tests (traces.test.mjs, alerts.test.mjs,
// slos.test.mjs), run by seed.mjs after its own: one trace of exactly 10,000 spans (the
// waterfall must open and scroll it) and one of 12,000 (over the 10,000 the page loads whole,
// so it goes through the tree API or says why it cannot), sent over OTLP/HTTP JSON in batches.
import {randomBytes} from 'node:crypto';

const hex = (bytes) => randomBytes(bytes).toString('hex');
const ns = (ms) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const attr = (key, v) => ({key, value: typeof v === 'number' ? {intValue: String(v)} : {stringValue: String(v)}});
const SERVICES = ['bulk-gateway', 'bulk-orders', 'bulk-stock', 'bulk-pricing', 'bulk-db'];

/**
 * bigTrace builds n spans: a root, then each span i > 0 a child of span floor((i-1)/8), so
 * the tree is 8 wide and about 5 levels deep; every 97th span fails. Times nest inside the
 * parent so the critical path is well defined.
 */
function bigTrace(n, t0) {
  const traceId = hex(16);
  const ids = Array.from({length: n}, () => hex(8));
  const start = new Float64Array(n), dur = new Float64Array(n), depth = new Int32Array(n);
  start[0] = t0; dur[0] = 4000; // ms
  const byService = new Map(SERVICES.map((s) => [s, []]));
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const p = Math.floor((i - 1) / 8), k = (i - 1) % 8;
      depth[i] = depth[p] + 1;
      const slot = dur[p] / 8;
      start[i] = start[p] + k * slot + slot * 0.05;
      dur[i] = slot * 0.9;
    }
    const svc = SERVICES[Math.min(depth[i], SERVICES.length - 1)];
    const failing = i % 97 === 42;
    byService.get(svc).push({
      traceId, spanId: ids[i], parentSpanId: i ? ids[Math.floor((i - 1) / 8)] : '',
      name: i === 0 ? 'POST /bulk/import' : `step ${depth[i]}.${(i - 1) % 8}`, kind: i === 0 ? 2 : 1,
      startTimeUnixNano: ns(start[i]), endTimeUnixNano: ns(start[i] + dur[i]),
      attributes: [attr('bulk.index', i), attr('bulk.depth', depth[i])],
      status: failing ? {code: 2, message: 'synthetic failure'} : {code: 0},
    });
  }
  return {traceId, byService};
}

async function send(otlp, post, tr) {
  // Batches of at most 2,500 spans keep each request well under the OTLP size limit.
  for (const [svc, spans] of tr.byService) {
    for (let i = 0; i < spans.length; i += 2500) {
      await post(otlp + '/v1/traces', {resourceSpans: [{
        resource: {attributes: [attr('service.name', svc)]},
        scopeSpans: [{scope: {name: 'vigil-e2e-pages'}, spans: spans.slice(i, i + 2500)}],
      }]});
    }
  }
}

export default async function ({otlp, now, post}) {
  const big = bigTrace(10_000, now - 6 * 60e3);
  await send(otlp, post, big);
  const huge = bigTrace(12_000, now - 4 * 60e3);
  await send(otlp, post, huge);
  return {bigTraceID: big.traceId, bigTraceSpans: 10_000, hugeTraceID: huge.traceId, hugeTraceSpans: 12_000};
}
