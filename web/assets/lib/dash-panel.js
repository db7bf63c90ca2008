// Draws one dashboard panel into its box: a PromQL graph (query_range), stat (instant query at
// the end of the range) or table (instant), or a log panel (volume by level as stacked bars, or
// the newest lines). Every panel states a cap and shows its own error in place, so one bad
// query does not blank the dashboard.

import {h} from './dom.js';
import {timeChart, matrixToSeries, emptyChart, levelColor} from './chart.js';
import {int} from './fmt.js';
import {formatter, seriesLabel, panelHeight} from './dash-model.js';

const LOG_LINES = 50;
const TABLE_ROWS = 200;
const LEVEL_ORDER = ['fatal', 'critical', 'error', 'warn', 'warning', 'info', 'notice', 'debug', 'trace'];

/**
 * drawPanel(box, {panel, query, ctx, range, step, signal}) -> {destroy()}. query: the panel's
 * query with the variables substituted. Throws AbortError when cancelled; other errors are
 * drawn in the box.
 */
export async function drawPanel(box, {panel, query, ctx, range, step, signal}) {
  const {start, end} = range;
  const height = panelHeight(panel);
  const yFmt = formatter(panel.unit);
  const charts = [];
  const done = {destroy: () => charts.forEach((c) => c.destroy())};
  try {
    if (panel.type === 'graph') {
      const r = await ctx.api('/api/v1/query_range', {query, start: start / 1000, end: end / 1000, step}, {signal});
      const result = r.data.result || [];
      if (!result.length) {
        emptyChart(box, 'No data in this range.', height);
        return done;
      }
      const {times, series} = matrixToSeries(result, {label: (m) => seriesLabel(m, panel.title || 'value')});
      box.replaceChildren();
      charts.push(timeChart(box, {times, series, height, tz: ctx.tz, yFmt, xRange: [start, end], onSelect: ([a, b]) => ctx.setRange(a, b)}));
    } else if (panel.type === 'stat' || panel.type === 'table') {
      const r = await ctx.api('/api/v1/query', {query, time: end / 1000}, {signal});
      const {resultType, result} = r.data;
      const rows = resultType === 'scalar' ? [{metric: {}, value: result}] : resultType === 'vector' ? result : [];
      if (resultType === 'matrix' || resultType === 'string') {
        box.replaceChildren(h('div', {class: 'vg-error'}, `The query returns a ${resultType}; a ${panel.type} panel needs an instant vector or a scalar.`));
        return done;
      }
      if (!rows.length) {
        box.replaceChildren(h('div', {class: 'dash-empty vg-muted', style: {height: height + 'px'}}, 'No data.'));
        return done;
      }
      if (panel.type === 'stat') drawStat(box, rows, panel, yFmt, height);
      else drawTable(box, rows, yFmt, height);
    } else if (panel.type === 'logs' && panel.display === 'lines') {
      await drawLines(box, {query, ctx, start, end, signal, height});
    } else if (panel.type === 'logs') {
      const c = await drawVolume(box, {query, ctx, start, end, step, signal, height});
      if (c) charts.push(c);
    } else {
      box.replaceChildren(h('div', {class: 'vg-error'}, `Unknown panel type "${panel.type}".`));
    }
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    box.replaceChildren(h('div', {class: 'vg-error', role: 'alert'}, h('strong', null, 'Error: '), err.message));
  }
  return done;
}

function drawStat(box, rows, panel, yFmt, height) {
  const shown = rows.slice(0, 8);
  box.replaceChildren(h('div', {class: 'dash-stat', style: {minHeight: height + 'px'}},
    shown.map((r) => h('div', {class: 'dash-stat-item'},
      h('div', {class: 'dash-stat-v'}, yFmt(parseFloat(r.value[1]))),
      rows.length > 1 ? h('div', {class: 'dash-stat-k vg-small vg-muted'}, seriesLabel(r.metric, '')) : null)),
    rows.length > shown.length ? h('div', {class: 'vg-small vg-muted'}, `showing ${shown.length} of ${rows.length} series`) : null));
}

function drawTable(box, rows, yFmt, height) {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.metric)))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const shown = rows.slice(0, TABLE_ROWS);
  box.replaceChildren(...[
    rows.length > shown.length ? h('div', {class: 'vg-notice'}, `Showing ${int(shown.length)} of ${int(rows.length)} series.`) : null,
    h('div', {class: 'vg-table-wrap', style: {maxHeight: height + 'px', overflow: 'auto'}}, h('table', {class: 'vg-table'},
      h('thead', null, h('tr', null, keys.map((k) => h('th', null, k)), h('th', {class: 'num'}, 'Value'))),
      h('tbody', null, shown.map((r) => h('tr', null, keys.map((k) => h('td', null, r.metric[k] ?? '')),
        h('td', {class: 'num'}, yFmt(parseFloat(r.value[1]))))))))].filter(Boolean));
}

const iso = (t) => new Date(t).toISOString();

async function drawVolume(box, {query, ctx, start, end, step, signal, height}) {
  const r = await ctx.api('/api/v1/logs/volume', {q: query, start: iso(start), end: iso(end), step: step + 's', by: 'level'}, {signal});
  const res = r.data.result || [];
  if (!res.length) {
    emptyChart(box, 'No log lines in this range.', height);
    return null;
  }
  const stepMs = (r.data.step || step) * 1000;
  // A full grid of buckets (the API leaves empty ones out), so bars keep one width.
  const first = Math.floor(start / stepMs) * stepMs;
  const times = [];
  for (let t = first; t < end; t += stepMs) times.push(t);
  const rank = (lv) => {
    const i = LEVEL_ORDER.indexOf(String(lv).toLowerCase());
    return i < 0 ? LEVEL_ORDER.length : i;
  };
  res.sort((a, b) => rank(a.metric.level || '') - rank(b.metric.level || ''));
  const series = res.map((s) => {
    const values = new Array(times.length).fill(0);
    for (const [ts, c] of s.values) {
      const i = Math.round((ts * 1000 - first) / stepMs);
      if (i >= 0 && i < values.length) values[i] += Number(c);
    }
    const lv = s.metric.level || '';
    return {label: lv || 'no level', values, color: levelColor(lv)};
  });
  box.replaceChildren();
  return timeChart(box, {kind: 'bars', stacked: true, times, series, height, tz: ctx.tz, yFmt: (v) => int(v),
    xRange: [start, end], onSelect: ([a, b]) => ctx.setRange(a, b)});
}

async function drawLines(box, {query, ctx, start, end, signal, height}) {
  const r = await ctx.api('/api/v1/logs/query', {q: query, start: iso(start), end: iso(end), limit: LOG_LINES, direction: 'backward'}, {signal});
  const lines = r.data.lines || [];
  if (!lines.length) {
    box.replaceChildren(h('div', {class: 'dash-empty vg-muted', style: {height: height + 'px'}}, 'No log lines in this range.'));
    return;
  }
  const total = r.data.total;
  box.replaceChildren(...[
    total > lines.length ? h('div', {class: 'vg-notice'}, `Showing the newest ${int(lines.length)} of ${int(total)} lines — `,
      h('a', {href: '/logs?q=' + encodeURIComponent(query)}, 'all in Logs')) : null,
    h('div', {class: 'dash-lines', style: {maxHeight: height + 'px'}}, lines.map((l) => h('div', {class: 'dash-line'},
      h('span', {class: 'vg-mono vg-muted'}, ctx.fmtTime(Date.parse(l.time), {ms: true})), ' ',
      l.level ? h('span', {class: 'dash-lvl', style: {color: levelColor(l.level)}}, l.level) : null, ' ',
      h('span', {class: 'vg-mono'}, String(l.message || l.raw || '').slice(0, 400)),
      l.trace_id ? [' ', h('a', {href: `/traces/${encodeURIComponent(l.trace_id)}`, class: 'vg-small'}, 'trace')] : null)))].filter(Boolean));
}
