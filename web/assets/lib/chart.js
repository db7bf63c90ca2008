// Charts over the vendored uPlot: time series as lines or stacked areas, bars (a histogram,
// stacked by group), a scatter, and an SVG sparkline. Colours come from the CSS variables of
// style.css, so every chart follows the theme; each redraws when the theme changes and
// resizes with its element. Times are ms since epoch in and out.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import {h, svg} from './dom.js';
import {num, value as plainValue} from './fmt.js';
import {fmtTime} from './ctx.js';

export {uPlot};

/** cssVar('--fg') -> the variable's current value on :root. */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** color(i) -> the i-th palette colour (wraps around). */
export function color(i) {
  return cssVar(`--c${(i % 10) + 1}`);
}

const LEVEL_VARS = {
  fatal: '--lvl-error', critical: '--lvl-error', error: '--lvl-error', err: '--lvl-error',
  warn: '--lvl-warn', warning: '--lvl-warn', info: '--lvl-info', notice: '--lvl-info',
  debug: '--lvl-debug', trace: '--lvl-debug',
};

/** levelColor('error') -> the level's colour; unknown levels get the neutral one. */
export function levelColor(level) {
  return cssVar(LEVEL_VARS[String(level || '').toLowerCase()] || '--lvl-other');
}

function alpha(c, a) {
  // Colours in style.css are #rrggbb; anything else is used as is.
  if (/^#[0-9a-f]{6}$/i.test(c)) return c + Math.round(a * 255).toString(16).padStart(2, '0');
  return c;
}

function tzDate(tz) {
  return tz === 'utc' ? (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : (ts) => new Date(ts * 1e3);
}

/**
 * A chart bound to el; call update(newOpts) to redraw with new data, destroy() to free it.
 * Common options:
 *   times: [ms...]; series: [{label, values: [number|null...], color?}]
 *   kind: 'lines' | 'bars' (default 'lines'); stacked: bool
 *   height (px, default 220); tz: 'utc' | 'local'; yFmt(v) -> string (axis and legend)
 *   onSelect([startMs, endMs]): dragging across the chart selects a range (e.g. to zoom)
 *   legend: bool (default true)
 *   sync: a key; charts (time charts and scatters) with the same key share one cursor by time
 */
export function timeChart(el, opts) {
  return new Chart(el, opts, buildTime);
}

/**
 * scatter(el, {points: [{t (ms), y, group, ...}], groups: [{label, color?}], yFmt, tz,
 * height, onClick(point), onSelect([startMs, endMs]), xRange, sync}): one dot per point,
 * coloured by group.
 */
export function scatter(el, opts) {
  return new Chart(el, opts, buildScatter);
}

class Chart {
  constructor(el, opts, build) {
    this.el = el;
    this.build = build;
    this.opts = opts;
    el.classList.add('vg-chart');
    this.onTheme = () => this.draw();
    addEventListener('vigil:theme', this.onTheme);
    this.ro = new ResizeObserver(() => {
      if (this.u && el.clientWidth && Math.abs(this.u.width - el.clientWidth) > 1) {
        this.u.setSize({width: el.clientWidth, height: this.u.height});
      }
    });
    this.ro.observe(el);
    this.draw();
  }

  update(opts) {
    this.opts = {...this.opts, ...opts};
    this.draw();
  }

  draw() {
    if (this.u) this.u.destroy();
    this.el.replaceChildren();
    const {options, data, after} = this.build(this.opts, this.el.clientWidth || 600);
    this.u = new uPlot(options, data, this.el);
    if (after) after(this.u);
  }

  destroy() {
    removeEventListener('vigil:theme', this.onTheme);
    this.ro.disconnect();
    if (this.u) this.u.destroy();
    this.u = null;
  }
}

function axes(o) {
  const fg = cssVar('--fg-muted');
  const grid = {stroke: cssVar('--grid'), width: 1};
  const yFmt = o.yFmt || num;
  return [
    {stroke: fg, grid, ticks: grid, font: '11px system-ui, sans-serif', values: timeTicks(o.tz), size: 44},
    {stroke: fg, grid, ticks: grid, font: '11px system-ui, sans-serif', size: 56,
      values: (u, splits) => splits.map((v) => (v == null ? '' : yFmt(v)))},
  ];
}

/**
 * Tick labels in 24-hour time in the displayed zone; the date under the first tick and under
 * each tick where the day changes, and the zone's name under the first.
 */
function timeTicks(tz) {
  return (u, splits, ax, space, incr) => {
    let prevDay = null;
    return splits.map((s, i) => {
      const full = fmtTime(s * 1000, tz, {zone: false});
      const day = full.slice(5, 10);
      let out = incr >= 86400 ? day : incr < 60 ? full.slice(11, 19) : full.slice(11, 16);
      if (i === 0) out += '\n' + (incr >= 86400 ? full.slice(0, 4) : day) + ' ' + zoneLabel(s, tz);
      else if (incr < 86400 && day !== prevDay) out += '\n' + day;
      prevDay = day;
      return out;
    });
  };
}

function zoneLabel(s, tz) {
  return fmtTime(s * 1000, tz, {date: false}).split(' ').slice(1).join(' ');
}

function selectHooks(o) {
  if (!o.onSelect) return {};
  return {
    setSelect: [(u) => {
      if (u.select.width > 3) {
        const a = u.posToVal(u.select.left, 'x');
        const b = u.posToVal(u.select.left + u.select.width, 'x');
        o.onSelect([a * 1000, b * 1000]);
      }
      u.setSelect({left: 0, top: 0, width: 0, height: 0}, false);
    }],
  };
}

function cursor(o) {
  const c = {
    drag: {x: !!o.onSelect, y: false, setScale: false},
    points: {size: 6},
  };
  // Only the time is shared: the y scales of synced charts mean different things.
  if (o.sync) c.sync = {key: o.sync, scales: ['x', null]};
  return c;
}

function buildTime(o, width) {
  const times = (o.times || []).map((t) => t / 1000);
  const series = o.series || [];
  const yFmt = o.yFmt || num;
  const bars = o.kind === 'bars';
  const stacked = !!o.stacked;
  const n = times.length;
  const raw = series.map((s) => s.values);
  let data = raw;
  const bands = [];
  if (stacked && bars) {
    // Opaque bars drawn in order, tallest first: series i shows the sum of i..end, so the
    // part left visible of each is its own value.
    data = raw.map((_, i) => {
      const out = new Array(n);
      for (let j = 0; j < n; j++) {
        let s = 0, any = false;
        for (let k = i; k < raw.length; k++) {
          const v = raw[k][j];
          if (v != null) {
            s += v;
            any = true;
          }
        }
        out[j] = any ? s : null;
      }
      return out;
    });
  } else if (stacked) {
    // Areas: series i is the sum of 0..i, filled down to series i-1 (a uPlot band).
    const acc = new Array(n).fill(0);
    data = raw.map((vals) => vals.map((v, j) => (acc[j] += v == null ? 0 : v)));
    for (let i = 1; i < data.length; i++) bands.push({series: [i + 1, i]});
  }
  const barWidth = bars ? Math.max(0.6, Math.min(0.95, 1 - 2 / Math.max(8, width / Math.max(1, n)))) : 0;
  const uSeries = [{
    value: (u, v) => (v == null ? '–' : fmtTime(v * 1000, o.tz, {zone: true})),
  }].concat(series.map((s, i) => {
    const c = s.color || color(i);
    const base = {
      label: s.label,
      stroke: c,
      width: bars ? 0 : 1.5,
      spanGaps: false,
      // Dots only for a series too sparse to draw a line (one that has just started).
      points: {show: !bars && s.values.filter((v) => v != null).length < 3, size: 5},
      value: (u, v, si, idx) => (idx == null ? '–' : yFmt(raw[si - 1][idx])),
    };
    if (bars) {
      base.fill = c;
      base.paths = uPlot.paths.bars({size: [barWidth, 80], align: 0});
    } else if (stacked) {
      base.fill = alpha(c, 0.45);
    } else if (o.fill) {
      base.fill = alpha(c, 0.15);
    }
    return base;
  }));
  const options = {
    width,
    height: o.height || 220,
    tzDate: tzDate(o.tz),
    series: uSeries,
    bands,
    axes: axes(o),
    cursor: cursor(o),
    legend: {show: o.legend !== false && series.length > 0, live: true},
    scales: {x: {time: true}, y: {range: (u, min, max) => yRange(min, max, stacked || bars)}},
    hooks: selectHooks(o),
    padding: [8, 8, 0, 0],
  };
  if (o.xRange) {
    options.scales.x.range = () => [o.xRange[0] / 1000, o.xRange[1] / 1000];
  }
  return {options, data: [times, ...data]};
}

function yRange(min, max, fromZero) {
  if (min == null || max == null) return [0, 1];
  if (fromZero || min >= 0) min = Math.min(0, min);
  if (min === max) return min === 0 ? [0, 1] : [Math.min(0, min * 0.9), max * 1.1];
  const pad = (max - min) * 0.05;
  return [min < 0 ? min - pad : min, max + pad];
}

function buildScatter(o, width) {
  const pts = (o.points || []).slice().sort((a, b) => a.t - b.t);
  const groups = o.groups && o.groups.length ? o.groups : [{label: 'points'}];
  const gi = new Map(groups.map((g, i) => [g.key ?? g.label, i]));
  const xs = pts.map((p) => p.t / 1000);
  const ys = groups.map(() => new Array(pts.length).fill(null));
  pts.forEach((p, j) => {
    ys[gi.get(p.group) ?? 0][j] = p.y;
  });
  const yFmt = o.yFmt || num;
  const options = {
    width,
    height: o.height || 220,
    tzDate: tzDate(o.tz),
    series: [{value: (u, v) => (v == null ? '–' : fmtTime(v * 1000, o.tz))}].concat(groups.map((g, i) => ({
      label: g.label,
      stroke: g.color || color(i),
      fill: alpha(g.color || color(i), 0.5),
      paths: () => null,
      points: {show: true, size: 6, width: 1},
      value: (u, v) => (v == null ? '–' : yFmt(v)),
    }))),
    axes: axes(o),
    cursor: {...cursor(o), points: {size: 8}},
    legend: {show: o.legend !== false},
    scales: {x: {time: true}, y: {range: (u, min, max) => yRange(min, max, true)}},
    hooks: selectHooks(o),
    padding: [8, 8, 0, 0],
  };
  if (o.xRange) {
    options.scales.x.range = () => [o.xRange[0] / 1000, o.xRange[1] / 1000];
  }
  const after = (u) => {
    if (!o.onClick) return;
    u.over.style.cursor = 'pointer';
    u.over.addEventListener('click', () => {
      const {left, top} = u.cursor;
      if (left == null || left < 0) return;
      let best = -1, bestD = 12 * 12; // within 12 px
      for (let j = 0; j < pts.length; j++) {
        const x = u.valToPos(xs[j], 'x');
        if (Math.abs(x - left) > 12) continue;
        const y = u.valToPos(pts[j].y, 'y');
        const d = (x - left) ** 2 + (y - top) ** 2;
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      }
      if (best >= 0) o.onClick(pts[best]);
    });
  };
  return {options, data: [xs, ...ys], after};
}

/** sparkline(values, {width, height, color, title}) -> an inline SVG trend line (no axes). */
export function sparkline(values, {width = 96, height = 24, color: c, title} = {}) {
  const vals = values.map((v) => (v == null || !isFinite(v) ? null : v));
  const present = vals.filter((v) => v != null);
  const s = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, class: 'vg-spark', role: 'img', 'aria-label': title || 'trend'});
  if (title) s.append(svg('title', {}, document.createTextNode(title)));
  s.append(svg('line', {x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, stroke: 'var(--grid)', 'stroke-width': 1}));
  if (present.length < 2) {
    // A single sample (a series that just started) is a dot where it sits in the range.
    const i = vals.findIndex((v) => v != null);
    if (i >= 0) s.append(svg('circle', {cx: vals.length > 1 ? (i / (vals.length - 1)) * (width - 4) + 2 : width / 2, cy: height / 2, r: 2, fill: c || 'var(--accent)'}));
    return s;
  }
  const min = Math.min(0, ...present), max = Math.max(...present);
  const span = max - min || 1;
  let d = '', pen = false;
  vals.forEach((v, i) => {
    if (v == null) {
      pen = false;
      return;
    }
    const x = (i / (vals.length - 1)) * (width - 2) + 1;
    const y = height - 1 - ((v - min) / span) * (height - 3);
    d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
    pen = true;
  });
  s.append(svg('path', {d, fill: 'none', stroke: c || 'var(--accent)', 'stroke-width': 1.5, 'stroke-linejoin': 'round'}));
  return s;
}

/**
 * matrixToSeries(result, {times, label}) aligns a Prometheus matrix (query_range result) onto
 * one shared time axis: -> {times: [ms], series: [{label, values}]}. label(metric) names a
 * series (default: the metric's labels in PromQL notation).
 */
export function matrixToSeries(result, {label = metricName} = {}) {
  const set = new Set();
  for (const r of result) for (const [t] of r.values || []) set.add(Math.round(t * 1000));
  const times = [...set].sort((a, b) => a - b);
  const idx = new Map(times.map((t, i) => [t, i]));
  const series = result.map((r) => {
    const values = new Array(times.length).fill(null);
    for (const [t, v] of r.values || []) values[idx.get(Math.round(t * 1000))] = parseFloat(v);
    return {label: label(r.metric), values, metric: r.metric};
  });
  return {times, series};
}

/** metricName({__name__: 'up', job: 'x'}) -> 'up{job="x"}' */
export function metricName(m) {
  const name = m.__name__ || '';
  const rest = Object.keys(m).filter((k) => k !== '__name__').sort().map((k) => `${k}="${m[k]}"`);
  return rest.length ? `${name}{${rest.join(', ')}}` : name || '{}';
}

/** A legend-less placeholder when there is nothing to draw. */
export function emptyChart(el, text, height = 120) {
  el.replaceChildren(h('div', {class: 'vg-chart-empty', style: {height: height + 'px'}}, text));
}

export {plainValue};
