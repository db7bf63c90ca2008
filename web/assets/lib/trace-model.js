// The trace view's model: spans of one trace as flat arrays indexed by span number, the tree
// between them, which rows are visible given collapsed spans and a filter, and the filter's
// little language. Pure functions, no DOM, so the browser suite can call them directly.

// fromJaeger turns one trace of the Jaeger API (/api/traces/<id>) into the model. Spans whose
// parent is not in the trace become roots marked `orphan` (the parent was not sent or is late).
export function fromJaeger(tr) {
  const raw = tr.spans || [];
  const procs = tr.processes || {};
  const n = raw.length;
  const spans = new Array(n);
  const byId = new Map();
  for (let i = 0; i < n; i++) {
    const s = raw[i];
    const proc = procs[s.processID] || { serviceName: '?', tags: [] };
    const tags = s.tags || [];
    let error = false, kind = '', statusMsg = '', statusCode = 'unset';
    for (const t of tags) {
      if (t.key === 'error' && (t.value === true || t.value === 'true')) error = true;
      else if (t.key === 'span.kind') kind = String(t.value);
      else if (t.key === 'otel.status_code') statusCode = String(t.value).toLowerCase();
      else if (t.key === 'otel.status_description') statusMsg = String(t.value);
    }
    if (error) statusCode = 'error';
    let parentId = '';
    for (const r of s.references || []) {
      if (r.refType === 'CHILD_OF') { parentId = r.spanID; break; }
    }
    spans[i] = {
      index: i, id: s.spanID, parentId, parent: -1, children: [], depth: 0, orphan: false,
      service: proc.serviceName, name: s.operationName, kind, status: statusCode, statusMsg,
      start: s.startTime, duration: s.duration, end: s.startTime + s.duration,
      tags, logs: s.logs || [], resource: proc.tags || [], refs: s.references || [],
    };
    byId.set(s.spanID, i);
  }
  return link(tr.traceID || '', spans, byId);
}

// fromTree turns an answer of /api/v1/traces/<id>/tree into the model's spans (no tags: the
// details come from /spans/<spanID> on demand). The summary fields travel along.
export function treeSpans(ans) {
  return (ans.spans || []).map(s => ({
    index: -1, id: s.spanID, parentId: s.parentSpanID || '', parent: -1, children: [], depth: 0,
    orphan: false, service: s.service, name: s.name, kind: s.kind || '', status: s.status || 'unset',
    statusMsg: '', start: s.start, duration: s.duration, end: s.start + s.duration,
    tags: null, logs: null, resource: null, refs: [],
    childCount: s.childCount || 0, descendantCount: s.descendantCount || 0, loaded: 0,
  }));
}

// mergeTree builds (or extends) a model from tree-API spans: spans already present are kept.
export function mergeTree(model, traceID, spans) {
  const all = model ? model.spans.slice() : [];
  const byId = model ? model.byId : new Map();
  for (const s of spans) {
    if (byId.has(s.id)) continue;
    s.index = all.length;
    byId.set(s.id, s.index);
    all.push(s);
  }
  for (const s of all) { s.children = []; s.parent = -1; s.orphan = false; s.depth = 0; }
  return link(traceID, all, byId);
}

function link(traceID, spans, byId) {
  const roots = [];
  for (const s of spans) {
    const p = s.parentId ? byId.get(s.parentId) : undefined;
    if (p === undefined || p === s.index) {
      if (s.parentId) s.orphan = true;
      roots.push(s.index);
    } else {
      s.parent = p;
      spans[p].children.push(s.index);
    }
  }
  const byStart = (a, b) => spans[a].start - spans[b].start || (spans[a].id < spans[b].id ? -1 : 1);
  roots.sort(byStart);
  let start = Infinity, end = -Infinity;
  const services = new Map();
  for (const s of spans) {
    if (s.children.length > 1) s.children.sort(byStart);
    if (s.start < start) start = s.start;
    if (s.end > end) end = s.end;
    services.set(s.service, (services.get(s.service) || 0) + 1);
  }
  // Depths and a cycle guard, iteratively: a trace can be thousands of levels deep.
  const seen = new Uint8Array(spans.length);
  const order = [];
  const stack = roots.slice().reverse();
  while (stack.length) {
    const i = stack.pop();
    if (seen[i]) continue;
    seen[i] = 1;
    order.push(i);
    const s = spans[i];
    for (let k = s.children.length - 1; k >= 0; k--) {
      const c = s.children[k];
      spans[c].depth = s.depth + 1;
      stack.push(c);
    }
  }
  // Spans in a parent cycle are reachable from no root: make the first of each a root.
  let cyclic = 0;
  for (let i = 0; i < spans.length; i++) {
    if (seen[i]) continue;
    cyclic++;
    const s = spans[i];
    if (s.parent >= 0) {
      const sib = spans[s.parent].children;
      sib.splice(sib.indexOf(i), 1);
    }
    s.parent = -1; s.orphan = true; s.depth = 0;
    roots.push(i);
    const st = [i];
    while (st.length) {
      const j = st.pop();
      if (seen[j]) continue;
      seen[j] = 1;
      order.push(j);
      for (const c of spans[j].children) { spans[c].depth = spans[j].depth + 1; st.push(c); }
    }
  }
  return {
    traceID, spans, byId, roots, order, cyclic,
    start: spans.length ? start : 0, end: spans.length ? end : 0,
    services: [...services.entries()].sort((a, b) => b[1] - a[1]).map(([name, count]) => ({ name, count })),
    orphans: spans.filter(s => s.orphan).length,
  };
}

// visibleRows lists the span indexes shown, in tree order. collapsed: Set of span indexes whose
// children are hidden. match: null (no filter) or a Uint8Array (1 = matches); with hide set,
// only matching spans and their ancestors (for context) are shown. hiddenKids[i] counts the
// shown-if-expanded descendants of a collapsed span i.
export function visibleRows(model, collapsed, match = null, hide = false) {
  const { spans, roots } = model;
  let keep = null;
  if (match && hide) {
    keep = new Uint8Array(spans.length);
    for (let i = 0; i < spans.length; i++) {
      if (!match[i]) continue;
      for (let j = i; j >= 0 && !keep[j]; j = spans[j].parent) keep[j] = 1;
    }
  }
  const rows = [];
  const stack = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push(roots[r]);
  while (stack.length) {
    const i = stack.pop();
    if (keep && !keep[i]) continue;
    rows.push(i);
    if (collapsed.has(i)) continue;
    const kids = spans[i].children;
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
  }
  return { rows, keep };
}

// descendants counts every span under i.
export function descendants(model, i) {
  let n = 0;
  const stack = [...model.spans[i].children];
  while (stack.length) {
    const j = stack.pop();
    n++;
    for (const c of model.spans[j].children) stack.push(c);
  }
  return n;
}

// parseDuration reads 250us, 12ms, 1.5s, 2m, 1h into microseconds; NaN when it is not one.
export function parseDuration(s) {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)$/.exec(String(s).trim());
  if (!m) return NaN;
  const mult = { us: 1, 'µs': 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 }[m[2]];
  return Number(m[1]) * mult;
}

// formatMicros prints a duration given in µs the way a trace view does: 850µs, 12.3ms, 1.25s.
export function formatMicros(us) {
  if (!isFinite(us)) return '–';
  const a = Math.abs(us);
  if (a < 1000) return `${Math.round(us)}µs`;
  if (a < 1e6) return `${+(us / 1e3).toFixed(a < 1e4 ? 2 : 1)}ms`;
  if (a < 60e6) return `${+(us / 1e6).toFixed(2)}s`;
  const m = Math.floor(a / 60e6);
  return `${us < 0 ? '-' : ''}${m}m${Math.round((a % 60e6) / 1e6)}s`;
}

// parseFilter compiles the span filter. Terms are ANDed:
//   word or "a phrase"      substring (any case) of service, operation, attribute key or value
//   key=value, key!=value   service, name, kind, status, or an attribute or resource attribute
//   duration>100ms, <2s     also >=, <=; `duration` may be left out
//   error                   spans with status error (same as status=error)
// Returns {test(span) -> bool, error: string|null}.
export function parseFilter(text) {
  const terms = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text || ''))) {
    if (m[1] !== undefined) { terms.push({ word: m[1].toLowerCase() }); continue; }
    const t = m[2];
    const d = /^(duration)?(>=|<=|>|<)(.+)$/.exec(t);
    if (d) {
      const us = parseDuration(d[3]);
      if (isNaN(us)) return { test: () => true, error: `"${d[3]}" is not a duration such as 250us, 12ms or 1.5s` };
      terms.push({ op: d[2], us });
      continue;
    }
    const kv = /^([^=!]+)(!?=)(.*)$/.exec(t);
    if (kv) { terms.push({ key: kv[1], neg: kv[2] === '!=', value: kv[3] }); continue; }
    if (t.toLowerCase() === 'error') { terms.push({ key: 'status', neg: false, value: 'error' }); continue; }
    terms.push({ word: t.toLowerCase() });
  }
  if (!terms.length) return { test: () => true, error: null, empty: true };
  return { test: s => terms.every(t => termMatches(t, s)), error: null, empty: false };
}

function termMatches(t, s) {
  if (t.op) {
    switch (t.op) {
      case '>': return s.duration > t.us;
      case '>=': return s.duration >= t.us;
      case '<': return s.duration < t.us;
      default: return s.duration <= t.us;
    }
  }
  if (t.key !== undefined) {
    const v = fieldValue(s, t.key);
    const eq = v !== undefined && String(v).toLowerCase() === t.value.toLowerCase();
    return t.neg ? !eq : eq;
  }
  const w = t.word;
  if (s.service.toLowerCase().includes(w) || s.name.toLowerCase().includes(w)) return true;
  for (const list of [s.tags, s.resource]) {
    if (!list) continue;
    for (const kv of list) {
      if (kv.key.toLowerCase().includes(w) || String(kv.value).toLowerCase().includes(w)) return true;
    }
  }
  return false;
}

function fieldValue(s, key) {
  switch (key) {
    case 'service': return s.service;
    case 'name': case 'operation': return s.name;
    case 'kind': return s.kind;
    case 'status': return s.status;
    case 'span': case 'spanID': return s.id;
  }
  for (const list of [s.tags, s.resource]) {
    if (!list) continue;
    for (const kv of list) if (kv.key === key) return kv.value;
  }
  return undefined;
}

// matchAll runs a compiled filter over every span: a Uint8Array and the count of matches.
export function matchAll(model, f) {
  const m = new Uint8Array(model.spans.length);
  let n = 0;
  for (let i = 0; i < m.length; i++) if (f.test(model.spans[i])) { m[i] = 1; n++; }
  return { match: m, count: n };
}
