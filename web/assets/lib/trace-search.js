// Trace search helpers: a one-line summary of each Jaeger search result, and the tags box
// (key=value pairs) turned into the API's JSON tags parameter.

// summarize reduces one trace of /api/traces to what the list and the scatter show.
export function summarize(tr) {
  const spans = tr.spans || [];
  const procs = tr.processes || {};
  const ids = new Set(spans.map(s => s.spanID));
  let start = Infinity, end = -Infinity, errors = 0, root = null;
  const services = new Map();
  for (const s of spans) {
    start = Math.min(start, s.startTime);
    end = Math.max(end, s.startTime + s.duration);
    if ((s.tags || []).some(t => t.key === 'error' && (t.value === true || t.value === 'true'))) errors++;
    const svc = procs[s.processID]?.serviceName || '?';
    services.set(svc, (services.get(svc) || 0) + 1);
    const parent = (s.references || []).find(r => r.refType === 'CHILD_OF');
    const isRoot = !parent || !ids.has(parent.spanID);
    if (isRoot && (!root || s.startTime < root.startTime || (!parent && root._orphan))) {
      root = Object.assign({}, s, { _orphan: !!parent });
    }
  }
  return {
    traceID: tr.traceID,
    start: spans.length ? start : 0,
    duration: spans.length ? end - start : 0,
    spans: spans.length,
    errors,
    rootService: root ? procs[root.processID]?.serviceName || '?' : '?',
    rootName: root ? root.operationName : '(no spans)',
    services: [...services.entries()].sort((a, b) => b[1] - a[1]).map(([name, count]) => ({ name, count })),
  };
}

// parseTags reads `key=value key2="a value"` into {key: value}; throws on a term without "=".
export function parseTags(text) {
  const out = {};
  const re = /([^\s=]+)=("([^"]*)"|\S*)/y;
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) {
      const bad = s.slice(i).split(/\s/)[0];
      throw new Error(`tag "${bad}" is not key=value (quote values with spaces: key="a b")`);
    }
    out[m[1]] = m[3] !== undefined ? m[3] : m[2];
    i = re.lastIndex;
  }
  return out;
}
