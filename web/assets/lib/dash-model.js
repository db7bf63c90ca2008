// Dashboards without the DOM: variable substitution, the built-in interval variables, where a
// variable's choices come from, value formats by unit and a panel's default size. The file
// format is web/dashboard.go's Dashboard; the Go side validates, this side only reads.

import {num, pct, rate, dur, durSec, bytes, promDuration} from './fmt.js';

export const PANEL_TYPES = ['graph', 'stat', 'table', 'logs'];
export const LOG_DISPLAYS = ['volume', 'lines'];
export const UNITS = ['', 'reqps', 'ratio', 'percent', 'ms', 's', 'bytes', 'none'];
/** The URL key of variable name: var-<name>, as Grafana spells it, so links read the same. */
export const varKey = (name) => 'var-' + name;

/**
 * intervals({start, end}, step) -> the built-in variables: $__range (the whole range, for
 * stat and table panels), $__interval (the step) and $__rate_interval (a window holding at
 * least a few samples: twice the step, at least a minute).
 */
export function intervals({start, end}, step) {
  return {
    __range: promDuration(end - start),
    __interval: promDuration(step * 1000),
    __rate_interval: promDuration(Math.max(step * 2, 60) * 1000),
  };
}

/**
 * substitute(text, values) replaces $name and ${name} by values[name]; longer names first, so
 * $service_name is not read as $service followed by "_name". Unknown names stay as written.
 */
export function substitute(text, values) {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let out = String(text ?? '');
  for (const n of names) {
    const v = values[n] ?? '';
    out = out.split('${' + n + '}').join(v);
    out = out.replace(new RegExp('\\$' + n.replace(/[^A-Za-z0-9_]/g, '') + '(?![A-Za-z0-9_])', 'g'), () => v);
  }
  return out;
}

/**
 * variableSource(query) -> {label, match} for Grafana's label_values(label) or
 * label_values(series selector, label); null for anything else.
 */
export function variableSource(query) {
  const m = /^\s*label_values\s*\(\s*(?:(.*?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query || '');
  if (!m) return null;
  return {match: m[1] || '', label: m[2]};
}

/** formatter(unit) -> v => string, for axes, legends and stat values. */
export function formatter(unit) {
  switch (unit) {
    case 'reqps': return (v) => rate(v);
    case 'ratio': return (v) => pct(v);
    case 'percent': return (v) => (v == null || !isFinite(v) ? '–' : num(v) + '%');
    case 'ms': return (v) => dur(v);
    case 's': return (v) => durSec(v);
    case 'bytes': return (v) => bytes(v);
    default: return (v) => num(v);
  }
}

/** seriesLabel(metric, fallback) -> the labels that tell series apart, or fallback (the panel title). */
export function seriesLabel(metric, fallback) {
  const keys = Object.keys(metric || {}).filter((k) => k !== '__name__').sort();
  if (!keys.length) return metric && metric.__name__ ? metric.__name__ : fallback;
  if (keys.length === 1) return metric[keys[0]];
  return keys.map((k) => `${k}="${metric[k]}"`).join(', ');
}

/** Height in px of a panel's body: h rows of 40 px, or the type's default. */
export function panelHeight(p) {
  if (p.h > 0) return Math.max(60, p.h * 40 - 48);
  if (p.type === 'stat') return 64;
  if (p.type === 'logs') return p.display === 'lines' ? 260 : 140;
  if (p.type === 'table') return 220;
  return 200;
}

/** blankPanel() -> a new panel for the editor. */
export function blankPanel() {
  return {title: 'New panel', type: 'graph', query: 'up', w: 6};
}

/** clean(dashboard) -> a copy without empty optional keys, the way it is saved. */
export function clean(d) {
  const out = {title: d.title};
  if (d.description) out.description = d.description;
  if (d.variables && d.variables.length) out.variables = d.variables;
  out.panels = (d.panels || []).map((p) => {
    const q = {title: p.title || '', type: p.type, query: p.query || ''};
    if (p.type === 'logs') q.display = p.display || 'volume';
    if (p.unit) q.unit = p.unit;
    if (p.w) q.w = Number(p.w);
    if (p.h) q.h = Number(p.h);
    return q;
  });
  return out;
}
