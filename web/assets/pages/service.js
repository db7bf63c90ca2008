// One service (/services/<name>): its golden signals over the selected range as graphs, its
// top operations, SLOs and firing alerts, its recent error log lines and its slowest traces.

import {h} from '../lib/dom.js';
import {timeChart, matrixToSeries, emptyChart} from '../lib/chart.js';
import {queries, byLabel, budgetClass, budgetText, severityClass, serviceOf, alertsHref, esc, SPAN_CALLS} from '../lib/golden.js';
import {int, num, pct, rate, dur, promDuration} from '../lib/fmt.js';

export const title = 'Service';

const TOP_OPS = 20;
const ERROR_LINES = 20;
const TRACE_SAMPLE = 100;
const SLOW_TRACES = 10;

export async function mount(el, ctx) {
  const name = ctx.path.join('/');
  document.title = `${name} · Vigil`;
  const q = (s) => encodeURIComponent(s);
  const logsQ = `service:${/^[A-Za-z0-9_.\-]+$/.test(name) ? name : '"' + name.replace(/"/g, '\\"') + '"'}`;
  const errEl = h('div', {hidden: true});
  const badges = h('div', {class: 'svc-alerts'});
  const stats = h('div', {class: 'svc-stats'});
  const charts = {rate: h('div'), errors: h('div'), latency: h('div')};
  const ops = h('div', {class: 'vg-table-wrap'});
  const opsNotice = h('div', {hidden: true});
  const errLogs = h('div');
  const errLogsNotice = h('div', {hidden: true});
  const slow = h('div', {class: 'vg-table-wrap'});
  const slowNotice = h('div', {hidden: true});
  const sourceNote = h('span', {class: 'vg-small vg-muted'});
  const logsLink = h('a', {href: '/logs?q=' + q(logsQ)}, 'Logs');
  const tracesLink = h('a', {href: '/traces?service=' + q(name)}, 'Traces');
  const exploreLink = h('a', {href: '/explore'}, 'Explore');
  el.append(
    h('div', {class: 'svc-head'}, h('h1', null, name), sourceNote, badges, h('span', {class: 'vg-spacer'}),
      h('span', {class: 'vg-row vg-small'}, h('a', {href: '/incident?service=' + q(name), 'data-link': 'incident'}, 'Incident timeline'), logsLink, tracesLink, exploreLink, h('a', {href: '/'}, 'All services'))),
    errEl, stats,
    h('div', {class: 'vg-grid'},
      h('div', {class: 'vg-card'}, h('h3', null, 'Requests per second'), charts.rate),
      h('div', {class: 'vg-card'}, h('h3', null, 'Error ratio'), charts.errors),
      h('div', {class: 'vg-card'}, h('h3', null, 'Latency (p50, p95, p99)'), charts.latency)),
    h('div', {class: 'vg-grid two', style: {marginTop: '12px'}},
      h('div', {class: 'vg-card'}, h('h3', null, 'Top operations'), opsNotice, ops),
      h('div', {class: 'vg-card'}, h('h3', null, 'Slowest traces'), slowNotice, slow)),
    h('div', {class: 'vg-card', style: {marginTop: '12px'}},
      h('div', {class: 'vg-row', style: {justifyContent: 'space-between'}}, h('h3', null, 'Recent errors'),
        h('a', {class: 'vg-small', href: '/logs?q=' + q(`${logsQ} AND (level:error OR level:fatal OR level:critical)`)}, 'all in Logs')),
      errLogsNotice, errLogs),
  );

  let abort = null;
  const chartObjs = [];

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    const {start, end} = ctx.range();
    const w = promDuration(end - start);
    const step = Math.max(ctx.step(120), 15);
    const rw = promDuration(Math.max(step * 2, 60) * 1000);
    const time = end / 1000;
    const inst = (query) => ctx.api('/api/v1/query', {query, time}, {signal}).then((r) => r.data.result);
    const range = (query) => ctx.api('/api/v1/query_range', {query, start: start / 1000, end: end / 1000, step}, {signal}).then((r) => r.data.result);
    const busyEls = [stats, ...Object.values(charts), ops, errLogs, slow];
    busyEls.forEach((e) => ctx.busy(e, true));
    try {
      // Traced services use span metrics; the rest Prometheus's http_requests_total{job}.
      const spans = await inst(`count(${SPAN_CALLS}{service_name="${esc(name)}"})`);
      const src = spans.length ? 'spans' : 'http';
      sourceNote.textContent = src === 'spans' ? 'from span metrics (server spans)' : 'from http_requests_total{job}';
      exploreLink.href = '/explore?q=' + q(queries(src, '5m', {service: name}).rate);
      const label = src === 'spans' ? 'service_name' : 'job';
      const s = queries(src, w, {service: name});
      const r = queries(src, rw, {service: name});
      const opsQ = queries(src, w, {service: name, by: src === 'spans' ? 'span_name' : 'handler'});
      const us = (ms) => Math.round(ms * 1000);
      const [now, cpu, rateT, errT, l50, l95, l99, opRate, opErr, opP95, slos, alerts] = await Promise.all([
        Promise.all([s.rate, s.errors, s.p50, s.p95, s.p99].map((x) => inst(x).then((res) => byLabel(res, label).get(name)))),
        inst(`sum(rate(process_cpu_seconds_total{job="${esc(name)}"}[${w}]))`).then((res) => (res[0] ? parseFloat(res[0].value[1]) : null)),
        range(r.rate), range(r.errors), range(r.p50), range(r.p95), range(r.p99),
        inst(`topk(${TOP_OPS}, ${opsQ.rate})`), inst(opsQ.errors), inst(opsQ.p95),
        ctx.api('/api/v1/slos', null, {signal}).then((x) => (x.data || []).filter((o) => o.service === name)).catch(() => []),
        ctx.api('/api/v2/alerts', {active: 'true', silenced: 'false', inhibited: 'false'}, {signal})
          .then((x) => x.filter((a) => serviceOf(a.labels || {}) === name)).catch(() => []),
      ]);
      ctx.error(errEl, null);
      const [vr, ve, v50, v95, v99] = now;
      stats.replaceChildren(...[
        stat('Rate', vr != null ? rate(vr) : '–'), stat('Errors', ve != null ? pct(ve) : '–'),
        stat('p50', v50 != null ? dur(v50) : '–'), stat('p95', v95 != null ? dur(v95) : '–'), stat('p99', v99 != null ? dur(v99) : '–'),
        cpu != null ? stat('CPU', num(cpu) + ' cores') : null,
        stat('Window', w)].filter(Boolean));
      badges.replaceChildren(
        ...slos.map((o) => h('a', {href: `/slos/${encodeURIComponent(o.name)}`, class: 'vg-badge ' + budgetClass(o.budget_remaining)},
          `SLO ${o.name}: ${budgetText(o.budget_remaining)}`)),
        ...alerts.map((a) => h('a', {href: alertsHref(a.labels), class: 'vg-badge ' + severityClass(a.labels.severity), title: (a.annotations && a.annotations.summary) || ''},
          `${a.labels.alertname} (${a.labels.severity || 'no severity'})`)));
      chartObjs.splice(0).forEach((c) => c.destroy());
      drawChart(charts.rate, rateT, () => 'req/s', (v) => rate(v), start, end);
      drawChart(charts.errors, errT, () => 'errors', (v) => pct(v), start, end);
      const lat = [[l50, 'p50'], [l95, 'p95'], [l99, 'p99']].map(([res, n]) => (res[0] ? {...res[0], metric: {q: n}} : null)).filter(Boolean);
      drawChart(charts.latency, lat, (m) => m.q, (v) => dur(v), start, end);
      drawOps(opRate, opErr, opP95, src === 'spans' ? 'span_name' : 'handler');
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) [stats, ...Object.values(charts), ops].forEach((e) => ctx.busy(e, false));
    }
    await Promise.all([loadErrors(start, end, signal), loadSlow(start, end, signal)]);
    if (!signal.aborted) [errLogs, slow].forEach((e) => ctx.busy(e, false));
  }

  function stat(k, v) {
    return h('div', {class: 'svc-stat'}, h('div', {class: 'v'}, v), h('div', {class: 'k'}, k));
  }

  function drawChart(box, result, label, yFmt, start, end) {
    if (!result.length) {
      emptyChart(box, 'No data in this range.', 180);
      return;
    }
    const {times, series} = matrixToSeries(result, {label});
    chartObjs.push(timeChart(box, {times, series, height: 180, tz: ctx.tz, yFmt, xRange: [start, end], onSelect: ([a, b]) => ctx.setRange(a, b)}));
  }

  function drawOps(rates, errs, p95s, label) {
    const em = byLabel(errs, label), pm = byLabel(p95s, label);
    const rows = rates.map((r) => ({op: r.metric[label] || '(none)', rate: parseFloat(r.value[1]), errors: em.get(r.metric[label] || ''), p95: pm.get(r.metric[label] || '')}))
      .sort((a, b) => b.rate - a.rate);
    ctx.notice(opsNotice, rows.length >= TOP_OPS ? `Showing the ${TOP_OPS} busiest operations.` : null);
    if (!rows.length) {
      ops.replaceChildren(h('div', {class: 'vg-muted'}, 'No operations in this range.'));
      return;
    }
    ops.replaceChildren(h('table', {class: 'vg-table'},
      h('thead', null, h('tr', null, h('th', null, 'Operation'), h('th', {class: 'num'}, 'Rate'), h('th', {class: 'num'}, 'Errors'), h('th', {class: 'num'}, 'p95'))),
      h('tbody', null, rows.map((r) => h('tr', null,
        h('td', null, label === 'span_name' ? h('a', {href: `/traces?service=${q(name)}&operation=${q(r.op)}`}, r.op) : r.op),
        h('td', {class: 'num'}, rate(r.rate)),
        h('td', {class: 'num ' + (r.errors > 0.01 ? 'vg-err-text' : '')}, pct(r.errors)),
        h('td', {class: 'num'}, dur(r.p95)))))));
  }

  async function loadErrors(start, end, signal) {
    try {
      const r = await ctx.api('/api/v1/logs/query', {q: `${logsQ} AND (level:error OR level:fatal OR level:critical)`,
        start: new Date(start).toISOString(), end: new Date(end).toISOString(), limit: ERROR_LINES}, {signal});
      const lines = r.data.lines;
      ctx.notice(errLogsNotice, r.data.total > lines.length ? `Showing the newest ${lines.length} of ${int(r.data.total)} error lines.` : null);
      if (!lines.length) {
        errLogs.replaceChildren(h('div', {class: 'vg-muted'}, 'No error lines in this range.'));
        return;
      }
      errLogs.replaceChildren(h('div', {class: 'vg-table-wrap'}, h('table', {class: 'vg-table'}, h('tbody', null, lines.map((l) => h('tr', null,
        h('td', {class: 'vg-mono', style: {whiteSpace: 'nowrap'}}, ctx.fmtTime(Date.parse(l.time), {ms: true})),
        h('td', {class: 'vg-mono', style: {wordBreak: 'break-word'}}, (l.message || l.raw).slice(0, 500)),
        h('td', null, l.trace_id ? h('a', {href: `/traces/${encodeURIComponent(l.trace_id)}`}, 'trace') : '')))))));
    } catch (err) {
      if (err.name !== 'AbortError') errLogs.replaceChildren(h('div', {class: 'vg-error'}, 'Logs: ' + err.message));
    }
  }

  async function loadSlow(start, end, signal) {
    try {
      const r = await ctx.api('/api/traces', {service: name, start: Math.floor(start * 1000), end: Math.ceil(end * 1000), limit: TRACE_SAMPLE}, {signal});
      const traces = (r.data || []).map((t) => {
        let min = Infinity, max = -Infinity, root = null, errors = 0;
        for (const sp of t.spans) {
          min = Math.min(min, sp.startTime);
          max = Math.max(max, sp.startTime + sp.duration);
          if (!sp.references || !sp.references.length) root = root || sp;
          if ((sp.tags || []).some((tg) => tg.key === 'error' && (tg.value === true || tg.value === 'true'))) errors++;
        }
        return {id: t.traceID, start: min / 1000, dur: (max - min) / 1000, root: root ? root.operationName : t.spans[0] && t.spans[0].operationName, spans: t.spans.length, errors};
      }).sort((a, b) => b.dur - a.dur);
      const top = traces.slice(0, SLOW_TRACES);
      ctx.notice(slowNotice, traces.length >= TRACE_SAMPLE ? `The ${SLOW_TRACES} slowest of the ${TRACE_SAMPLE} most recent traces in this range.` : null);
      if (!top.length) {
        slow.replaceChildren(h('div', {class: 'vg-muted'}, 'No traces in this range.'));
        return;
      }
      slow.replaceChildren(h('table', {class: 'vg-table'},
        h('thead', null, h('tr', null, h('th', null, 'Trace'), h('th', null, 'Started'), h('th', {class: 'num'}, 'Duration'), h('th', {class: 'num'}, 'Spans'))),
        h('tbody', null, top.map((t) => h('tr', null,
          h('td', {style: {whiteSpace: 'nowrap'}}, h('a', {href: `/traces/${encodeURIComponent(t.id)}`}, t.root || t.id.slice(0, 16)),
            t.errors ? h('span', {class: 'vg-badge err', style: {marginLeft: '6px'}}, `${t.errors} error${t.errors > 1 ? 's' : ''}`) : null),
          h('td', {class: 'vg-small', style: {whiteSpace: 'nowrap'}}, ctx.fmtTime(t.start, {date: end - start > 20 * 3600e3})),
          h('td', {class: 'num'}, dur(t.dur)), h('td', {class: 'num'}, int(t.spans)))))));
    } catch (err) {
      if (err.name !== 'AbortError') slow.replaceChildren(h('div', {class: 'vg-error'}, 'Traces: ' + err.message));
    }
  }

  await load();
  return {
    update: (c) => load(),
    unmount() {
      if (abort) abort.abort();
      chartObjs.forEach((c) => c.destroy());
    },
  };
}
