// The alerts page's model: Alertmanager groups and Prometheus pending rule alerts arranged by
// severity, Vigil's group ids (for acknowledgement) joined on, label matchers parsed and
// matched. Pure functions, no DOM.

// Severities in the order shown; anything else comes after, alphabetically, then "none".
export const SEVERITIES = ['critical', 'high', 'warning', 'medium', 'low', 'info'];

export function severityRank(s) {
  const i = SEVERITIES.indexOf(s);
  return i >= 0 ? i : s ? SEVERITIES.length : SEVERITIES.length + 1;
}

const labelKey = labels => Object.keys(labels || {}).sort().map(k => `${k}\u0000${labels[k]}`).join('\u0001');

// joinVigilGroups attaches Vigil's group id and acknowledgement to each Alertmanager group
// (same receiver, same group labels).
export function joinVigilGroups(amGroups, vigilGroups) {
  const by = new Map();
  for (const g of vigilGroups || []) by.set(`${g.receiver}\u0002${labelKey(g.labels)}`, g);
  return amGroups.map(g => {
    const v = by.get(`${g.receiver?.name}\u0002${labelKey(g.labels)}`);
    return { ...g, vigilID: v?.id || '', acknowledged: v?.acknowledged || null, escalationPolicy: v?.escalationPolicy || '' };
  });
}

// groupSeverity is the most severe severity among a group's alerts (or its group label).
export function groupSeverity(g) {
  let best = g.labels?.severity || '';
  for (const a of g.alerts || []) {
    const s = a.labels?.severity || '';
    if (severityRank(s) < severityRank(best)) best = s;
  }
  return best;
}

// parseMatchers reads `a="b", c=~"d.*"` (braces optional, values quoted or bare; = != =~ !~)
// into [{name, value, isRegex, isEqual}]; throws with a readable message.
export function parseMatchers(text) {
  let s = (text || '').trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$|\s)/y;
  let i = 0;
  while (i < s.length) {
    if (/^[\s,]*$/.test(s.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) {
      const rest = s.slice(i).trim().split(/[\s,]/)[0];
      throw new Error(`"${rest}" is not a matcher such as severity="critical" or service=~"check.*"`);
    }
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4];
    const isRegex = m[2] === '=~' || m[2] === '!~';
    if (isRegex) {
      try { new RegExp(value); } catch (err) { throw new Error(`${m[1]}${m[2]}"${value}": ${err.message}`); }
    }
    out.push({ name: m[1], value, isRegex, isEqual: m[2] === '=' || m[2] === '=~' });
    i = re.lastIndex;
  }
  return out;
}

// formatMatchers prints matchers the way Alertmanager does: {a="b", c=~"d"}.
export function formatMatchers(ms) {
  return ms.map(formatMatcher).join(', ');
}

export function formatMatcher(m) {
  const op = m.isRegex ? (m.isEqual === false ? '!~' : '=~') : (m.isEqual === false ? '!=' : '=');
  return `${m.name}${op}"${String(m.value).replace(/["\\]/g, '\\$&')}"`;
}

// matches tells whether labels satisfy every matcher (regexes anchored, as Alertmanager's).
export function matches(labels, ms) {
  for (const m of ms) {
    const v = labels?.[m.name] ?? '';
    let ok;
    if (m.isRegex) ok = new RegExp(`^(?:${m.value})$`).test(v);
    else ok = v === m.value;
    if (ok !== (m.isEqual !== false)) return false;
  }
  return true;
}

// matchersFromLabels is the silence pre-filled from an alert or group: every label as an
// equality matcher, except those that change from one firing to the next.
export function matchersFromLabels(labels) {
  return Object.keys(labels || {}).sort().map(k => ({ name: k, value: labels[k], isRegex: false, isEqual: true }));
}

// buildRows arranges what the page lists, as flat rows for a virtualised list:
//   {kind: 'sev', severity, firing, pending}
//   {kind: 'group', group, severity, collapsed}         an Alertmanager group
//   {kind: 'alert', alert, group}                        one of its alerts
//   {kind: 'pgroup', key, severity, alerts, collapsed}  pending rule alerts of one alertname
//   {kind: 'palert', alert}
// filter: matchers every shown alert must satisfy. collapsed: Set of group keys.
export function buildRows(groups, pending, { filter = [], collapsed = new Set() } = {}) {
  const bySev = new Map();
  const sevOf = s => { if (!bySev.has(s)) bySev.set(s, { groups: [], pending: new Map() }); return bySev.get(s); };
  let firing = 0, pend = 0;
  for (const g of groups) {
    const alerts = (g.alerts || []).filter(a => matches(a.labels, filter));
    if (!alerts.length) continue;
    alerts.sort((a, b) => (a.labels.alertname || '').localeCompare(b.labels.alertname || '') || a.startsAt.localeCompare(b.startsAt));
    sevOf(groupSeverity(g)).groups.push({ ...g, alerts });
    firing += alerts.length;
  }
  for (const a of pending) {
    if (!matches(a.labels, filter)) continue;
    const s = sevOf(a.labels.severity || '');
    const k = a.labels.alertname || '';
    if (!s.pending.has(k)) s.pending.set(k, []);
    s.pending.get(k).push(a);
    pend++;
  }
  const rows = [];
  const sevs = [...bySev.keys()].sort((a, b) => severityRank(a) - severityRank(b) || a.localeCompare(b));
  for (const sev of sevs) {
    const { groups: gs, pending: ps } = bySev.get(sev);
    const nf = gs.reduce((n, g) => n + g.alerts.length, 0);
    const np = [...ps.values()].reduce((n, l) => n + l.length, 0);
    rows.push({ kind: 'sev', severity: sev, firing: nf, pending: np, key: `sev:${sev}` });
    gs.sort((a, b) => b.alerts.length - a.alerts.length || labelKey(a.labels).localeCompare(labelKey(b.labels)));
    for (const g of gs) {
      const key = `g:${g.receiver?.name}\u0002${labelKey(g.labels)}`;
      const isCollapsed = collapsed.has(key);
      rows.push({ kind: 'group', group: g, severity: sev, collapsed: isCollapsed, key });
      if (!isCollapsed) for (const a of g.alerts) rows.push({ kind: 'alert', alert: a, group: g, key: `a:${key}:${a.fingerprint}` });
    }
    for (const [name, list] of [...ps.entries()].sort()) {
      const key = `p:${sev}:${name}`;
      const isCollapsed = collapsed.has(key);
      rows.push({ kind: 'pgroup', name, severity: sev, alerts: list, collapsed: isCollapsed, key });
      if (!isCollapsed) for (const a of list) rows.push({ kind: 'palert', alert: a, key: `pa:${key}:${labelKey(a.labels)}` });
    }
  }
  return { rows, firing, pending: pend };
}

// alertState is what a row shows for an Alertmanager alert: firing, silenced, inhibited,
// muted (its route is outside its active time intervals, e.g. business-hours paging) or
// unprocessed; why is the tooltip.
export function alertState(a) {
  const st = a.status || {};
  if (st.silencedBy && st.silencedBy.length) return { state: 'silenced', why: `silenced by ${st.silencedBy.join(', ')}` };
  if (st.inhibitedBy && st.inhibitedBy.length) return { state: 'inhibited', why: `inhibited by ${st.inhibitedBy.join(', ')}` };
  if (st.mutedBy && st.mutedBy.length) return { state: 'muted', why: `notifications muted now by time interval ${st.mutedBy.join(', ')}; it still fires` };
  if (st.state === 'unprocessed') return { state: 'unprocessed', why: 'not yet through inhibition and silences' };
  return { state: 'firing', why: '' };
}
