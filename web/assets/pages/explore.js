// Explore metrics: a PromQL editor with autocompletion, range or instant queries, the result
// as lines, stacked areas or a table. State in the URL: q, mode (range|instant), view
// (lines|stacked|table), step (seconds or a duration; empty = automatic).

import {h} from '../lib/dom.js';
import {timeChart, matrixToSeries, metricName, emptyChart} from '../lib/chart.js';
import {attachPromQLComplete} from '../lib/promql-complete.js';
import {int, num, value as plain, parseDuration} from '../lib/fmt.js';

export const title = 'Explore';

const MAX_SERIES_GRAPH = 100;
const MAX_ROWS = 1000;

export async function mount(el, ctx) {
  const ta = h('textarea', {class: 'vg-editor', rows: 1, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'PromQL query',
    placeholder: 'PromQL, e.g. sum by (job) (rate(http_requests_total[5m]))  — Ctrl/⌘+Enter runs it'});
  const run = h('button', {type: 'button', class: 'vg-btn vg-primary'}, 'Run');
  const modeSeg = seg('Query type', [['range', 'Range'], ['instant', 'Instant']]);
  const viewSeg = seg('Show as', [['lines', 'Lines'], ['stacked', 'Stacked'], ['table', 'Table']]);
  const stepIn = h('input', {class: 'vg-input', style: {width: '90px'}, placeholder: 'auto', 'aria-label': 'Step', title: 'Resolution step (e.g. 15s, 1m); empty = automatic'});
  const errEl = h('div', {hidden: true});
  const noticeEl = h('div', {hidden: true});
  const stats = h('div', {class: 'ex-stats'});
  const result = h('div', {class: 'ex-result'});
  const resultWrap = h('div', {class: 'vg-card'}, stats, noticeEl, result);

  el.append(
    h('h1', null, 'Explore metrics'),
    h('div', {class: 'vg-query'}, h('div', {class: 'vg-editor-wrap'}, ta), run),
    errEl,
    h('div', {class: 'vg-toolbar', style: {marginTop: '8px'}}, modeSeg.el, viewSeg.el, h('label', {class: 'vg-row vg-small vg-muted'}, 'Step', stepIn)),
    resultWrap,
  );
  const complete = attachPromQLComplete(ta, ctx.api);
  const grow = () => {
    ta.style.height = 'auto';
    ta.style.height = Math.min(240, ta.scrollHeight + 2) + 'px';
  };
  ta.addEventListener('input', grow);

  let chart = null;
  let abort = null;
  let last = null; // the last successful answer, redrawn on view changes

  const state = () => {
    const p = ctx.params;
    return {
      q: p.get('q') || '',
      mode: p.get('mode') === 'instant' ? 'instant' : 'range',
      view: ['stacked', 'table'].includes(p.get('view')) ? p.get('view') : 'lines',
      step: p.get('step') || '',
    };
  };

  const submit = () => {
    complete.close();
    const q = ta.value.trim();
    if (q === state().q) return query();
    ctx.setParams({q, step: stepIn.value.trim() || null});
  };
  run.addEventListener('click', submit);
  el.addEventListener('vigil:run', submit);
  stepIn.addEventListener('keydown', (e) => e.key === 'Enter' && submit());
  modeSeg.onchange = (v) => ctx.setParams({mode: v === 'range' ? null : v});
  viewSeg.onchange = (v) => {
    ctx.setParams({view: v === 'lines' ? null : v}, {replace: true});
  };
  ctx.shortcut('/', 'Focus the query editor', () => ta.focus());

  function stepSeconds(st) {
    if (!st.step) return ctx.step(300);
    const d = /^\d+(\.\d+)?$/.test(st.step) ? parseFloat(st.step) * 1000 : parseDuration(st.step);
    return d > 0 ? d / 1000 : ctx.step(300);
  }

  async function query() {
    const st = state();
    ta.value = st.q;
    grow();
    modeSeg.set(st.mode);
    viewSeg.set(st.view);
    stepIn.value = st.step;
    if (!st.q) {
      ctx.error(errEl, null);
      stats.textContent = '';
      emptyChart(result, 'Type a PromQL query and press Run (Ctrl/⌘+Enter). Metric and label names complete as you type.');
      return;
    }
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    const {start, end} = ctx.range();
    const step = stepSeconds(st);
    ctx.busy(resultWrap, true);
    const t0 = performance.now();
    try {
      const body = new URLSearchParams(st.mode === 'range'
        ? {query: st.q, start: String(start / 1000), end: String(end / 1000), step: String(step)}
        : {query: st.q, time: String(end / 1000)});
      const meta = {};
      const r = await ctx.api(st.mode === 'range' ? '/api/v1/query_range' : '/api/v1/query', null, {method: 'POST', body, signal, meta});
      ctx.error(errEl, null);
      last = {st, data: r.data, warnings: r.warnings || [], sources: meta.sources, ms: performance.now() - t0, step, start, end};
      draw();
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) ctx.busy(resultWrap, false);
    }
  }

  function draw() {
    if (!last) return;
    const st = state();
    const {data, warnings, sources, ms} = last;
    viewSeg.set(st.view);
    if (chart) {
      chart.destroy();
      chart = null;
    }
    result.replaceChildren();
    const type = data.resultType;
    const res = data.result;
    const n = type === 'matrix' || type === 'vector' ? res.length : 1;
    const points = type === 'matrix' ? res.reduce((a, r) => a + (r.values || []).length + (r.histograms || []).length, 0) : n;
    stats.textContent = `${int(n)} series${type === 'matrix' ? `, ${int(points)} points, step ${last.step}s` : ''} · ${type} · ${Math.round(ms)} ms` +
      // Named only when a remote metrics source (query.metrics_sources) took part.
      (sources && sources !== 'local=ok' ? ' · sources: ' + sources : '') +
      (warnings.length ? ' · warnings: ' + warnings.join('; ') : '');
    ctx.notice(noticeEl, null);
    if (type === 'scalar' || type === 'string') {
      result.append(h('div', {class: 'vg-mono', style: {fontSize: '20px', padding: '12px 0'}}, String(res[1])),
        h('div', {class: 'vg-small vg-muted'}, 'at ' + ctx.fmtTime(res[0] * 1000)));
      return;
    }
    if (!res.length) {
      emptyChart(result, 'The query returned no series in this range.');
      return;
    }
    if (type === 'matrix' && st.view !== 'table') {
      const shown = res.slice(0, MAX_SERIES_GRAPH);
      if (res.length > shown.length) ctx.notice(noticeEl, `Graph shows ${int(shown.length)} of ${int(res.length)} series — aggregate (sum by …) or filter the query to see them all.`);
      const {times, series} = matrixToSeries(shown);
      const box = h('div');
      result.append(box);
      chart = timeChart(box, {
        times, series, stacked: st.view === 'stacked', height: 320, tz: ctx.tz, yFmt: num,
        xRange: [last.start, last.end],
        onSelect: ([a, b]) => ctx.setRange(a, b),
      });
      return;
    }
    if (type === 'vector' && st.view !== 'table') {
      result.append(h('div', {class: 'vg-small vg-muted', style: {marginBottom: '6px'}}, 'An instant query has one value per series: shown as a table. Switch to Range for a graph.'));
    }
    table(type, res);
  }

  function table(type, res) {
    const rows = res.slice(0, MAX_ROWS);
    if (res.length > rows.length) ctx.notice(noticeEl, `Showing ${int(rows.length)} of ${int(res.length)} series — filter the query to see the rest.`);
    const head = type === 'matrix'
      ? h('tr', null, h('th', null, 'Series'), h('th', {class: 'num'}, 'Last'), h('th', {class: 'num'}, 'Min'), h('th', {class: 'num'}, 'Max'), h('th', {class: 'num'}, 'Avg'), h('th', {class: 'num'}, 'Points'))
      : h('tr', null, h('th', null, 'Series'), h('th', {class: 'num'}, 'Value'), h('th', {class: 'num'}, 'Time'));
    const body = rows.map((r) => {
      if (type === 'matrix') {
        const vs = (r.values || []).map((v) => parseFloat(v[1]));
        const fin = vs.filter(isFinite);
        const sum = fin.reduce((a, b) => a + b, 0);
        return h('tr', null, h('td', {class: 'series'}, metricName(r.metric)),
          h('td', {class: 'val'}, plain(vs[vs.length - 1])), h('td', {class: 'val'}, plain(fin.length ? Math.min(...fin) : null)),
          h('td', {class: 'val'}, plain(fin.length ? Math.max(...fin) : null)), h('td', {class: 'val'}, plain(fin.length ? sum / fin.length : null)),
          h('td', {class: 'val'}, int(vs.length)));
      }
      const v = r.value ? r.value[1] : r.histogram ? 'histogram' : '–';
      const t = r.value ? r.value[0] : r.histogram ? r.histogram[0] : null;
      return h('tr', null, h('td', {class: 'series'}, metricName(r.metric)), h('td', {class: 'val'}, r.value ? plain(parseFloat(v)) : v),
        h('td', {class: 'val vg-muted'}, t ? ctx.fmtTime(t * 1000, {date: false}) : ''));
    });
    result.append(h('div', {class: 'vg-table-wrap'}, h('table', {class: 'vg-table ex-table'}, h('thead', null, head), h('tbody', null, body))));
  }

  let lastKey = '';
  const update = async (c) => {
    const st = state();
    const key = JSON.stringify([st.q, st.mode, st.step]);
    // A view change redraws the answer we have; anything else asks again.
    if (c && c.reason === 'params' && key === lastKey && last) {
      draw();
      return;
    }
    lastKey = key;
    await query();
  };
  await update();
  if (!state().q) ta.focus();
  return {
    update,
    unmount() {
      if (abort) abort.abort();
      if (chart) chart.destroy();
    },
  };
}

/** A segmented control: seg(label, [[value, text]...]) -> {el, set(value), onchange}. */
function seg(label, options) {
  const out = {onchange: null};
  const buttons = options.map(([v, text]) => h('button', {type: 'button', 'data-v': v, onclick: () => out.onchange && out.onchange(v)}, text));
  out.el = h('div', {class: 'vg-seg', role: 'group', 'aria-label': label}, buttons);
  out.set = (v) => buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.v === v)));
  return out;
}
