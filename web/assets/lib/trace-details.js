// The details of one span: identity, timing, status, attributes, events, links and resource.
// From the Jaeger model (tags, logs, process tags), or from the tree API's full-span answer
// (/api/v1/traces/<id>/spans/<spanID>), read liberally since attributes may come as a list of
// {key, value} or as an object.
import { h } from './slo-dom.js';
import { formatMicros } from './trace-model.js';

// Tags the header already shows.
const lifted = new Set(['span.kind', 'otel.status_code', 'otel.status_description', 'error']);

export function spanDetails(ctx, model, s, full, traceID) {
  const attrs = full ? kvList(full.attributes) : (s.tags || []).filter(t => !lifted.has(t.key));
  const resource = full ? kvList(full.resource?.attributes ?? full.resource) : (s.resource || []);
  const events = full ? (full.events || []).map(e => ({
    time: toMicros(e.time ?? e.timeUnixNano ?? e.timestamp),
    name: e.name || '',
    fields: kvList(e.attributes),
  })) : (s.logs || []).map(l => ({
    time: l.timestamp,
    name: (l.fields.find(f => f.key === 'event') || {}).value || '',
    fields: l.fields.filter(f => f.key !== 'event'),
  }));
  const links = full ? (full.links || []).map(l => ({ traceID: l.traceID || l.traceId, spanID: l.spanID || l.spanId }))
    : (s.refs || []).filter(r => r.refType === 'FOLLOWS_FROM').map(r => ({ traceID: r.traceID, spanID: r.spanID }));
  const statusMsg = full ? (full.status?.message || full.statusMessage || s.statusMsg) : s.statusMsg;
  const parent = s.parent >= 0 ? model.spans[s.parent] : null;
  const logsHref = `/logs?q=${encodeURIComponent(`trace_id:${traceID} AND span_id:${s.id}`)}`;
  const selfTime = selfMicros(model, s);

  return h('div', { class: 'tr-detail-body' },
    h('h2', null, s.name),
    h('p', { class: 'muted' }, s.service, s.kind ? ` · ${s.kind}` : ''),
    h('dl', { class: 'tr-kv' },
      dt('Status'), h('dd', null, h('span', { class: `pill ${s.status === 'error' ? 'firing' : s.status === 'ok' ? 'ok' : 'inactive'}` }, s.status), statusMsg ? ` ${statusMsg}` : ''),
      dt('Start'), h('dd', null, ctx.fmtTime(s.start / 1000, { ms: true }), h('span', { class: 'muted' }, ` (+${formatMicros(s.start - model.start)})`)),
      dt('Duration'), h('dd', null, formatMicros(s.duration), selfTime != null ? h('span', { class: 'muted' }, ` (self ${formatMicros(selfTime)})`) : ''),
      dt('Span ID'), h('dd', null, h('code', null, s.id)),
      dt('Parent'), h('dd', null, parent ? h('a', { href: '#', onclick: e => { e.preventDefault(); ctx.setParams({ span: parent.id }, { replace: true }); } }, `${parent.service}: ${parent.name}`)
        : s.parentId ? h('span', { class: 'muted' }, `${s.parentId} (not in this trace)`) : h('span', { class: 'muted' }, 'none (root)'))),
    h('p', null, h('a', { href: logsHref, onclick: e => { if (e.ctrlKey || e.metaKey) return; e.preventDefault(); ctx.navigate(logsHref); } }, 'Logs of this span →')),
    section(`Attributes (${attrs.length})`, kvTable(attrs)),
    section(`Events (${events.length})`, events.length ? h('ul', { class: 'tr-events' }, events.map(ev => h('li', null,
      h('span', { class: 'muted' }, `+${formatMicros(ev.time - s.start)} `), h('strong', null, ev.name || '(event)'),
      ev.fields.length ? kvTable(ev.fields) : null))) : null),
    links.length ? section(`Links (${links.length})`, h('ul', null, links.map(l => h('li', null,
      h('a', { href: `/traces/${l.traceID}?span=${l.spanID}` }, `${l.traceID} / ${l.spanID}`))))) : null,
    section(`Resource (${resource.length})`, kvTable(resource)));
}

function dt(t) { return h('dt', null, t); }

function section(title, body) {
  return h('details', { class: 'tr-section', open: true }, h('summary', null, title), body || h('p', { class: 'muted small' }, 'none'));
}

function kvTable(list) {
  if (!list || !list.length) return null;
  return h('table', { class: 'tr-kvt' }, h('tbody', null, list.map(kv => h('tr', null,
    h('th', null, kv.key), h('td', null, h('code', null, fmtValue(kv.value)))))));
}

function fmtValue(v) {
  if (v == null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// kvList reads attributes as [{key, value}] (OTLP's value objects unwrapped) or {key: value}.
export function kvList(a) {
  if (!a) return [];
  if (Array.isArray(a)) return a.map(x => ({ key: x.key, value: otlpValue(x.value) }));
  return Object.entries(a).map(([key, value]) => ({ key, value }));
}

function otlpValue(v) {
  if (v == null || typeof v !== 'object') return v;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue;
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(otlpValue);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue.values || []).map(x => [x.key, otlpValue(x.value)]));
  if ('bytesValue' in v) return v.bytesValue;
  return v;
}

function toMicros(t) {
  if (t == null) return NaN;
  if (typeof t === 'string' && /^\d+$/.test(t)) return Number(BigInt(t) / 1000n); // ns as a string
  if (typeof t === 'string') return Date.parse(t) * 1000;
  return t > 1e17 ? t / 1000 : t; // ns or µs
}

// selfMicros is the span's time not covered by any child.
function selfMicros(model, s) {
  if (s.childCount > s.children.length) return null; // children not loaded (tree API): unknown
  if (!s.children.length) return s.duration;
  const iv = s.children.map(c => [Math.max(model.spans[c].start, s.start), Math.min(model.spans[c].end, s.end)]).filter(([a, b]) => b > a);
  iv.sort((a, b) => a[0] - b[0]);
  let covered = 0, cs = -Infinity, ce = -Infinity;
  for (const [a, b] of iv) {
    if (a > ce) { if (ce > cs) covered += ce - cs; cs = a; ce = b; } else if (b > ce) ce = b;
  }
  if (ce > cs) covered += ce - cs;
  return Math.max(0, s.duration - covered);
}
