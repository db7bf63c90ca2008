// Seeds a fresh Vigil for the browser tests through its real ingest endpoints: Prometheus text
// import (an hour of request counters), OTLP/HTTP JSON traces (three services calling each
// other, some failing; span metrics follow from them), JSON-lines logs (about 2,000 lines over
// the last hour, 10,000 lines of one service for the scrolling test, one 1 MB line), and an
// alert posted to the Alertmanager API. Then every testdata/*.seed.mjs runs in name order:
//
//   export default async function ({base, otlp, now, post, seed}) { ...; return {key: value} }
//
// and what it returns is merged into the seed object the tests receive.

import {randomBytes} from 'node:crypto';
import {readdirSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const hex = (bytes) => randomBytes(bytes).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** post(url, body, contentType) -> the response, throwing on a non-2xx answer. */
export async function post(url, body, contentType = 'application/json') {
  const r = await fetch(url, {method: 'POST', headers: {'Content-Type': contentType}, body: typeof body === 'string' ? body : JSON.stringify(body)});
  if (!r.ok) throw new Error(`POST ${url}: HTTP ${r.status}: ${(await r.text()).slice(0, 500)}`);
  return r;
}

export const SERVICES = ['frontend', 'checkout', 'payment'];

async function seedMetrics(base, now) {
  // One sample every 30 s for the last hour; checkout fails 2% of requests.
  const lines = ['# TYPE http_requests_total counter', '# TYPE queue_depth gauge'];
  let ok = 0, bad = 0, fe = 0;
  for (let t = now - 3600e3; t <= now; t += 30e3) {
    ok += 300 + Math.round(100 * Math.sin(t / 6e5));
    bad += 6;
    fe += 500;
    lines.push(`http_requests_total{job="checkout",code="200"} ${ok} ${t}`);
    lines.push(`http_requests_total{job="checkout",code="500"} ${bad} ${t}`);
    lines.push(`http_requests_total{job="frontend",code="200"} ${fe} ${t}`);
    lines.push(`queue_depth{job="checkout",queue="orders"} ${20 + Math.round(10 * Math.cos(t / 3e5))} ${t}`);
  }
  await post(base + '/api/v1/import/prometheus', lines.join('\n') + '\n', 'text/plain');
  return {metrics: ['http_requests_total', 'queue_depth']};
}

const attr = (key, v) => ({key, value: typeof v === 'number' ? {intValue: String(v)} : {stringValue: String(v)}});
const ns = (ms) => String(BigInt(Math.round(ms * 1000)) * 1000n);

/** One frontend -> checkout -> payment trace starting at t (ms); failing marks payment errors. */
function trace(t, {failing = false, slow = false} = {}) {
  const traceId = hex(16);
  const ids = {fe: hex(8), feClient: hex(8), co: hex(8), coClient: hex(8), pay: hex(8), db: hex(8)};
  const total = slow ? 1800 : 40 + Math.random() * 80;
  const span = (spanId, parentSpanId, name, kind, start, dur, extra = {}) => ({
    traceId, spanId, parentSpanId: parentSpanId || '', name, kind,
    startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + dur),
    attributes: extra.attributes || [], status: extra.status || {code: 0},
  });
  const err = failing ? {code: 2, message: 'card declined: connection refused'} : {code: 1};
  const res = (service, spans) => ({
    resource: {attributes: [attr('service.name', service), attr('service.version', '1.4.2')]},
    scopeSpans: [{scope: {name: 'vigil-e2e'}, spans}],
  });
  return {
    traceId,
    failing,
    slow,
    resourceSpans: [
      res('frontend', [
        span(ids.fe, '', 'GET /checkout', 2, t, total, {attributes: [attr('http.method', 'GET'), attr('http.status_code', failing ? 502 : 200)], status: failing ? {code: 2, message: 'upstream failed'} : {code: 0}}),
        span(ids.feClient, ids.fe, 'POST /api/checkout', 3, t + 2, total - 4),
      ]),
      res('checkout', [
        span(ids.co, ids.feClient, 'POST /api/checkout', 2, t + 4, total - 8, {status: failing ? {code: 2, message: 'payment failed'} : {code: 0}}),
        span(ids.db, ids.co, 'SELECT orders', 3, t + 6, 5, {attributes: [attr('db.system', 'postgresql')]}),
        span(ids.coClient, ids.co, 'Charge', 3, t + 12, total - 20),
      ]),
      res('payment', [
        span(ids.pay, ids.coClient, 'Charge', 2, t + 14, total - 24, {status: err, attributes: [attr('rpc.system', 'grpc')]}),
      ]),
    ],
  };
}

async function seedTraces(otlp, now) {
  const traces = [];
  // 40 traces over the last 50 minutes: every 8th fails, every 13th is slow.
  for (let i = 0; i < 40; i++) traces.push(trace(now - 50 * 60e3 + i * 75e3, {failing: i % 8 === 3, slow: i % 13 === 5}));
  // Span metrics are stamped when flushed: send in two rounds so rates have two samples.
  const half = traces.length / 2;
  for (const batch of [traces.slice(0, half), traces.slice(half)]) {
    await post(otlp + '/v1/traces', {resourceSpans: batch.flatMap((t) => t.resourceSpans)});
    await sleep(1500);
  }
  return {
    traceIDs: traces.map((t) => t.traceId),
    failingTraceIDs: traces.filter((t) => t.failing).map((t) => t.traceId),
    slowTraceIDs: traces.filter((t) => t.slow).map((t) => t.traceId),
    spansPerTrace: 6,
    services: SERVICES,
  };
}

const MESSAGES = [
  ['info', 'request served'], ['info', 'order created'], ['info', 'cache refreshed'],
  ['debug', 'connection pool stats'], ['warn', 'slow query: SELECT orders took 812ms'],
  ['warn', 'retrying payment call'], ['error', 'payment failed: connection refused (payment-service:8080)'],
];

async function seedLogs(base, now, traceSeed) {
  const lines = [];
  const n = 2000;
  let errors = 0, refused = 0;
  for (let i = 0; i < n; i++) {
    const t = now - 55 * 60e3 + (i * 55 * 60e3) / n;
    const [level, msg] = MESSAGES[i % MESSAGES.length];
    const service = SERVICES[i % SERVICES.length];
    const line = {ts: new Date(t).toISOString(), level, service, msg, http: {status: level === 'error' ? 502 : 200, method: 'GET'}, user_id: `u${i % 17}`};
    if (level === 'error') {
      errors++;
      refused++;
      line.trace_id = traceSeed.failingTraceIDs[errors % traceSeed.failingTraceIDs.length];
    }
    lines.push(JSON.stringify(line));
  }
  // One line of 1 MB, so the list must truncate it.
  const hugeAt = now - 3 * 60e3;
  lines.push(JSON.stringify({ts: new Date(hugeAt).toISOString(), level: 'warn', service: 'checkout', msg: 'huge payload dump ' + 'x'.repeat(1 << 20)}));
  await post(base + '/api/v1/logs', lines.join('\n') + '\n', 'application/x-ndjson');

  // 10,000 lines of one service in the last 20 minutes, for the scrolling test.
  const bulk = 10_000;
  for (let start = 0; start < bulk; start += 2500) {
    const chunk = [];
    for (let i = start; i < Math.min(bulk, start + 2500); i++) {
      const t = now - 20 * 60e3 + (i * 20 * 60e3) / bulk;
      chunk.push(JSON.stringify({ts: new Date(t).toISOString(), level: i % 10 === 0 ? 'warn' : 'info', service: 'loadgen', msg: `synthetic line ${i}`, seq: i}));
    }
    await post(base + '/api/v1/logs', chunk.join('\n') + '\n', 'application/x-ndjson');
  }
  return {logLines: n + 1 + bulk, errorLines: errors, refusedLines: refused, bulkService: 'loadgen', bulkLines: bulk, hugeLineAt: hugeAt};
}

async function seedAlerts(base, now) {
  const alerts = [{
    labels: {alertname: 'CheckoutHighLatency', service: 'checkout', severity: 'high'},
    annotations: {summary: 'checkout p99 above 1s', description: 'Seeded by the browser tests.'},
    startsAt: new Date(now - 10 * 60e3).toISOString(),
    endsAt: new Date(now + 3600e3).toISOString(),
  }];
  await post(base + '/api/v2/alerts', alerts);
  return {alerts: alerts.map((a) => a.labels)};
}

/** Polls until span metrics of every seeded service are queryable (bounded: 60 x 500 ms). */
async function waitSpanMetrics(base) {
  for (let i = 0; i < 60; i++) {
    const r = await fetch(base + '/api/v1/query?query=' + encodeURIComponent('count by (service_name) (traces_span_metrics_calls_total)'));
    if (r.ok) {
      const j = await r.json();
      if (j.data.result.length >= SERVICES.length) return;
    }
    await sleep(500);
  }
  throw new Error('span metrics of the seeded traces did not appear within 30 s');
}

export async function seedAll({base, otlp, testdata}) {
  const now = Date.now();
  const seed = {now};
  Object.assign(seed, await seedMetrics(base, now));
  Object.assign(seed, await seedTraces(otlp, now));
  Object.assign(seed, await seedLogs(base, now, seed));
  Object.assign(seed, await seedAlerts(base, now));
  for (const f of readdirSync(testdata).filter((f) => f.endsWith('.seed.mjs')).sort()) {
    const mod = await import(pathToFileURL(join(testdata, f)).href);
    Object.assign(seed, (await mod.default({base, otlp, now, post, seed})) || {});
  }
  await waitSpanMetrics(base);
  return seed;
}
