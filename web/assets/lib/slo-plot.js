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

// palette returns n series colours from the theme (--c1 ... --c10, repeating).
export function palette(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(cssVar(`--c${(i % 10) + 1}`));
  return out;
}

// plot draws series over time. opts: {ctx, xs (seconds), series: [{label, values, color,
// points, width, dash}], yLabel, yFmt, height, onPick(idx, seriesIdx), scatter}
export function plot(el, opts) {
  loadCSS('/vendor/uplot/uPlot.min.css');
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
    scales: { x: { time: true }, y: opts.yRange ? { range: opts.yRange } : {} },
    axes: [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: `time (${zone})`, labelSize: 18, labelFont: '11px system-ui', font: '11px system-ui' },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: opts.yLabel || '', labelSize: 18, labelFont: '11px system-ui', font: '11px system-ui', size: 60, values: (u, vals) => vals.map(yFmt) },
    ],
    series: [
      { label: `time (${zone})`, value: (u, v) => v == null ? '–' : opts.ctx.fmtTime(v * 1000) },
      ...opts.series.map(s => ({
        label: s.label, stroke: s.color, width: s.width ?? (opts.scatter ? 0 : 1.5), dash: s.dash,
        fill: s.fill, spanGaps: false,
        paths: opts.scatter ? () => null : undefined,
        points: opts.scatter ? { show: true, size: s.size || 7, stroke: s.color, fill: s.color, width: 1 } : { show: false },
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
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - u.width) > 2) u.setSize({ width: w, height: cfg.height });
  });
  ro.observe(el);
  return { u, destroy() { ro.disconnect(); u.destroy(); } };
}
