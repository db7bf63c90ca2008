// uPlot charts of the PAGES modules (SLO budget and burn rates, the trace search scatter):
// sized to their container, coloured from the theme's CSS variables, time axes in the zone
// the shell displays (ctx.tz) and labelled with it.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { cssVar, loadCSS } from './slo-dom.js';

// zoneName is the zone every timestamp on screen carries ("UTC", "CET", "GMT+2").
export function zoneName(ctx) {
  const s = ctx.fmtTime(Date.now());
  return s.slice(s.lastIndexOf(' ') + 1);
}

function axisColours() {
  return {
    fg: cssVar('--fg-muted'),
    grid: cssVar('--grid'),
  };
}

// palette returns n series colours as theme variable names (--c1 ... --c10, repeating);
// plot resolves them, again whenever the theme changes.
export function palette(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(`--c${(i % 10) + 1}`);
  return out;
}

// colour resolves a variable name ("--c1") to the theme's colour; other values pass through.
// alpha (0-255) is appended to a #rrggbb colour, for area fills.
function colour(c, alpha) {
  const v = c && c.startsWith('--') ? cssVar(c) : c;
  return alpha !== undefined && /^#[0-9a-f]{6}$/i.test(v) ? v + alpha.toString(16).padStart(2, '0') : v;
}

// timeTicks labels the time axis in the displayed zone, 24-hour, with the date where the
// ticks are a day or more apart or the range crosses midnight.
function timeTicks(ctx) {
  return (u, splits, axisIdx, space, incr) => {
    const full = splits.map(v => ctx.fmtTime(v * 1000, { zone: false })); // "2026-11-27 10:04:05"
    const days = new Set(full.map(f => f.slice(0, 10)));
    return full.map(f => {
      if (incr >= 86400) return f.slice(5, 10);
      const t = incr < 60 ? f.slice(11, 19) : f.slice(11, 16);
      return days.size > 1 ? `${f.slice(5, 10)} ${t}` : t;
    });
  };
}

// logSplits puts ticks at 1, 2 and 5 times each power of ten within the scale.
function logSplits(u, axisIdx, min, max) {
  const out = [];
  if (!(min > 0) || !(max > min)) return out;
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

// plot draws series over time. opts: {ctx, xs (seconds), xRange ([min, max] seconds),
// series: [{label, values, color, width, dash, fill}], yLabel, yFmt, yRange, yLog, height,
// scatter, onPick(index) (the point nearest a click), onSelect(startMs, endMs) (a drag)}
export function plot(el, opts) {
  loadCSS('/vendor/uplot/uPlot.min.css');
  let u = build(el, opts);
  // Colours are read from the theme when the chart is built: rebuild on a theme change.
  const onTheme = () => { u.destroy(); u = build(el, opts); };
  addEventListener('vigil:theme', onTheme);
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
  });
  ro.observe(el);
  return { get u() { return u; }, destroy() { ro.disconnect(); removeEventListener('vigil:theme', onTheme); u.destroy(); } };
}

function build(el, opts) {
  const { fg, grid } = axisColours();
  const utc = opts.ctx.tz === 'utc';
  const zone = zoneName(opts.ctx);
  const yFmt = opts.yFmt || (v => String(v));
  const cfg = {
    width: Math.max(200, el.clientWidth || 600),
    height: opts.height || 220,
    tzDate: utc ? ts => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : undefined,
    legend: { show: true, live: true },
    cursor: { drag: { x: !!opts.onSelect, y: false }, points: { size: 8 }, focus: { prox: 24 } },
    scales: {
      x: opts.xRange ? { time: true, range: () => opts.xRange } : { time: true },
      y: opts.yLog ? { distr: 3, log: 10, range: (u, min, max) => [min / 1.5, max * 1.5] } : opts.yRange ? { range: opts.yRange } : {},
    },
    axes: [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: `time (${zone})`, labelSize: 18, labelFont: '11px system-ui', font: '11px system-ui', values: timeTicks(opts.ctx) },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: opts.yLabel || '', labelSize: 18, labelFont: '11px system-ui', font: '11px system-ui', size: 60, values: (u, vals) => vals.map(v => v == null ? null : yFmt(v)),
        splits: opts.yLog ? logSplits : undefined },
    ],
    series: [
      { label: `time (${zone})`, value: (u, v) => v == null ? '–' : opts.ctx.fmtTime(v * 1000) },
      ...opts.series.map(s => ({
        label: s.label, stroke: colour(s.color), width: s.width ?? (opts.scatter ? 0 : 1.5), dash: s.dash,
        fill: s.fillAlpha ? colour(s.color, s.fillAlpha) : undefined, spanGaps: false,
        paths: opts.scatter ? () => null : undefined,
        // Lines with few points show them, or a lone point would be invisible.
        points: opts.scatter ? { show: true, size: s.size || 7, stroke: colour(s.color), fill: colour(s.color), width: 1 }
          : { show: s.values.filter(v => v != null).length < 3, size: 6, stroke: colour(s.color), fill: colour(s.color) },
        value: (u, v) => v == null ? '–' : yFmt(v),
      })),
    ],
    hooks: {},
  };
  if (opts.onSelect) {
    cfg.hooks.setSelect = [u => {
      if (u.select.width < 3) return;
      const a = u.posToVal(u.select.left, 'x'), b = u.posToVal(u.select.left + u.select.width, 'x');
      u.setSelect({ width: 0, height: 0 }, false);
      opts.onSelect(a * 1000, b * 1000);
    }];
  }
  const data = [opts.xs, ...opts.series.map(s => s.values)];
  el.replaceChildren();
  const u = new uPlot(cfg, data, el);
  if (opts.onPick) {
    // The point nearest the click, over every series, within 12 px.
    u.over.addEventListener('click', e => {
      const r = u.over.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      let best = -1, bestD = 144;
      for (let si = 1; si < data.length; si++) {
        const ys = data[si];
        for (let i = 0; i < ys.length; i++) {
          if (ys[i] == null) continue;
          const dx = u.valToPos(data[0][i], 'x') - px, dy = u.valToPos(ys[i], 'y') - py;
          const d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = i; }
        }
      }
      if (best >= 0) opts.onPick(best);
    });
    u.over.style.cursor = 'pointer';
  }
  return u;
}
