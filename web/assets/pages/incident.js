// Incident timeline (/incident?service=<s>&from=&to=): one service over one range, every signal
// on the same time axis with a shared cursor — golden signals (rate, errors, latency), log
// volume by level, slow and failed traces, alert state changes (rule alerts from ALERTS,
// Alertmanager alerts, notifications sent) and the burn rate of the service's SLOs. Moving over
// one lane shows the same instant on all of them; clicking a point opens what is behind it in
// Logs, Traces, Alerts or the SLO page, narrowed to that moment.

import {h} from '../lib/dom.js';
import {loadCSS} from '../lib/slo-dom.js';
import {timeChart, scatter, emptyChart, levelColor, cssVar} from '../lib/chart.js';
import {queries, esc, SPAN_CALLS} from '../lib/golden.js';
import {int, num, pct, rate, dur, promDuration} from '../lib/fmt.js';
import {
  alertStateQuery, activeSinceQuery, sloBurnQuery, burnWindow, alertIntervals, notificationsFor, slowAndFailed, onGrid,
} from '../lib/incident-data.js';

export const title = 'Incident timeline';

const SYNC = 'vigil-incident';
const TRACE_SAMPLE = 500;
const LEVEL_ORDER = ['fatal', 'critical', 'error', 'warn', 'warning', 'info', 'notice', 'debug', 'trace'];

export async function mount(el, ctx) {
  loadCSS('/pages/incident.css');
  const q = encodeURIComponent;
  const errEl = h('div', {hidden: true});
  const svcSel = h('select', {class: 'vg-select', 'aria-label': 'Service', onchange: (e) => ctx.setParams({service: e.target.value})});
  const links = h('span', {class: 'vg-row vg-small'});
  const cursorEl = h('span', {class: 'vg-small vg-muted inc-cursor', 'aria-live': 'off'});
  const lanesEl = h('div', {class: 'inc-lanes'});
  el.append(
    h('div', {class: 'svc-head'}, h('h1', null, 'Incident timeline'), svcSel, h('span', {class: 'vg-spacer'}), links),
    h('div', {class: 'vg-row vg-small vg-muted inc-help'},
      h('span', null, 'One time axis for every signal: hover to see the same instant everywhere, click a point to open what is behind it, drag to narrow the range.'),
      h('span', {class: 'vg-spacer'}), cursorEl),
    errEl, lanesEl);

  /** The lanes, top to bottom: key -> {card, box, note, chart, click(t, chart)}. */
  const lanes = new Map();
  const lane = (key, label, hint) => {
    const box = h('div', {class: 'inc-box'});
    const note = h('div', {class: 'vg-small vg-muted inc-note'});
    const card = h('section', {class: 'vg-card inc-lane', 'data-lane': key},
      h('div', {class: 'inc-lane-head'}, h('h3', null, label), h('span', {class: 'vg-small vg-muted'}, hint)), box, note);
    lanesEl.append(card);
    const l = {card, box, note, chart: null, click: null};
    lanes.set(key, l);
    // A click on the plot (not the end of a drag) opens what is behind that instant.
    let down = null;
    box.addEventListener('mousedown', (e) => (down = [e.clientX, e.clientY]));
    // The instant under the cursor, named once above the lanes.
    box.addEventListener('mousemove', () => {
      const u = l.chart && l.chart.u;
      if (u && u.cursor.left != null && u.cursor.left >= 0) cursorEl.textContent = 'cursor: ' + ctx.fmtTime(u.posToVal(u.cursor.left, 'x') * 1000);
    });
    box.addEventListener('click', (e) => {
      const moved = down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 3;
      down = null;
      if (moved || !l.chart || !l.click || !l.chart.u || !e.target.closest('.u-over')) return;
      const u = l.chart.u;
      if (u.cursor.left == null || u.cursor.left < 0) return;
      l.click(u.posToVal(u.cursor.left, 'x') * 1000, u);
    });
    return l;
  };
  lane('rate', 'Requests per second', 'click: traces around that moment');
  lane('errors', 'Error ratio', 'click: failed traces around that moment');
  lane('latency', 'Latency p50, p95, p99', 'click: traces slower than p95 then');
  lane('logs', 'Log volume by level', 'click: the log lines of that bucket');
  lane('traces', 'Slow and failed traces', 'click a dot: the trace');
  lane('alerts', 'Alert state', 'rule alerts (ALERTS: firing, pending) and Alertmanager alerts about the service; click: the alerts');
  lane('notifications', 'Notifications sent', 'click: the notification history');
  lane('slo', 'SLO burn rate', '1 = spending the error budget exactly over the SLO window; click: the SLO');

  let abort = null;
  let services = null;

  function freeCharts() {
    for (const l of lanes.values()) {
      if (l.chart) l.chart.destroy();
      l.chart = null;
    }
  }

  async function loadServices(signal) {
    if (services) return services;
    const {start, end} = ctx.range();
    const [jaeger, spans] = await Promise.all([
      ctx.api('/api/services', null, {signal}).then((r) => r.data || []).catch((err) => (err.name === 'AbortError' ? Promise.reject(err) : [])),
      ctx.api('/api/v1/label/service_name/values', {'match[]': SPAN_CALLS, start: Math.floor(start / 1000), end: Math.ceil(end / 1000)}, {signal})
        .then((r) => r.data || []).catch((err) => (err.name === 'AbortError' ? Promise.reject(err) : [])),
    ]);
    services = [...new Set([...jaeger, ...spans])].sort();
    return services;
  }

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    ctx.busy(lanesEl, true);
    try {
      const list = await loadServices(signal);
      const service = ctx.params.get('service') || '';
      const opts = service && !list.includes(service) ? [service, ...list] : list;
      svcSel.replaceChildren(h('option', {value: ''}, 'choose a service'), ...opts.map((s) => h('option', {value: s}, s)));
      svcSel.value = service;
      if (!service) {
        freeCharts();
        for (const l of lanes.values()) emptyChart(l.box, 'Choose a service above.', 60);
        links.replaceChildren();
        ctx.error(errEl, null);
        return;
      }
      document.title = `${service} · Incident timeline · Vigil`;
      await draw(service, signal);
      ctx.error(errEl, null);
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) ctx.busy(lanesEl, false);
    }
  }

  async function draw(service, signal) {
    const {start, end} = ctx.range();
    const step = Math.max(ctx.step(200), 15);
    const stepMs = step * 1000;
    // One grid for the PromQL lanes, ending on the end of the range (so the newest samples
    // count); the queries start on it, so their points fall on it.
    const first = end - Math.ceil((end - start) / stepMs) * stepMs;
    const times = [];
    for (let t = first; t <= end; t += stepMs) times.push(t);
    const xRange = [start, end];
    const iso = (t) => new Date(t).toISOString();
    const around = (t) => [Math.max(start, t - stepMs), Math.min(end, t + stepMs)];
    const rangeQ = (t) => {
      const [a, b] = around(t);
      return `from=${q(iso(a))}&to=${q(iso(b))}`;
    };
    const logsQ = `service:${/^[A-Za-z0-9_.\-]+$/.test(service) ? service : '"' + service.replace(/"/g, '\\"') + '"'}`;
    links.replaceChildren(
      h('a', {href: `/services/${q(service)}`}, 'Service page'),
      h('a', {href: `/logs?q=${q(logsQ)}`}, 'Logs'),
      h('a', {href: `/traces?service=${q(service)}`}, 'Traces'),
      h('a', {href: `/alerts?filter=${q(`service="${esc(service)}"`)}`}, 'Alerts'));

    const prom = (query) => ctx.api('/api/v1/query_range', {query, start: first / 1000, end: end / 1000, step}, {signal}).then((r) => r.data.result || []);
    const soft = (p) => p.catch((err) => (err.name === 'AbortError' ? Promise.reject(err) : {error: err}));
    const spans = await ctx.api('/api/v1/query', {query: `count(${SPAN_CALLS}{service_name="${esc(service)}"})`, time: end / 1000}, {signal}).then((r) => r.data.result);
    const src = spans.length ? 'spans' : 'http';
    const rw = promDuration(Math.max(step * 2, 60) * 1000);
    const g = queries(src, rw, {service});
    const [rateR, errR, p50, p95, p99, vol, traceAns, errTraceAns, alertR, sinceR, amAlerts, history, slos] = await Promise.all([
      soft(prom(g.rate)), soft(prom(g.errors)), soft(prom(g.p50)), soft(prom(g.p95)), soft(prom(g.p99)),
      soft(ctx.api('/api/v1/logs/volume', {q: logsQ, start: iso(first), end: iso(end), step: step + 's', by: 'level'}, {signal}).then((r) => r.data)),
      soft(ctx.api('/api/traces', {service, start: Math.floor(start * 1000), end: Math.ceil(end * 1000), limit: TRACE_SAMPLE}, {signal}).then((r) => r.data || [])),
      soft(ctx.api('/api/traces', {service, tags: JSON.stringify({error: 'true'}), start: Math.floor(start * 1000), end: Math.ceil(end * 1000), limit: 100}, {signal}).then((r) => r.data || [])),
      soft(prom(alertStateQuery(service))),
      soft(ctx.api('/api/v1/query', {query: activeSinceQuery(service), time: end / 1000}, {signal}).then((r) => r.data.result || [])),
      soft(ctx.api('/api/v2/alerts', null, {signal})),
      soft(ctx.api('/api/v1/alerts/notifications', null, {signal})),
      soft(ctx.api('/api/v1/slos', null, {signal}).then((r) => (r.data || []).filter((s) => s.service === service))),
    ]);
    const burns = Array.isArray(slos)
      ? await Promise.all(slos.map((s) => soft(prom(sloBurnQuery(s, burnWindow(s)))).then((r) => ({slo: s, w: burnWindow(s), r}))))
      : [];
    if (signal.aborted) return;
    freeCharts();

    const onGridOf = (result) => {
      const idx = new Map(times.map((t, i) => [t, i]));
      return result.map((r) => {
        const values = new Array(times.length).fill(null);
        for (const [ts, v] of r.values || []) {
          const i = idx.get(Math.round(ts * 1000));
          if (i != null) values[i] = parseFloat(v);
        }
        return {metric: r.metric, values};
      });
    };
    const common = {tz: ctx.tz, xRange, sync: SYNC, onSelect: ([a, b]) => ctx.setRange(a, b)};
    const failed = (l, res, what) => {
      if (res && res.error) {
        l.box.replaceChildren(h('div', {class: 'vg-error'}, `${what}: ${res.error.message}`));
        return true;
      }
      return false;
    };
    const lines = (key, series, yFmt, empty, height = 130) => {
      const l = lanes.get(key);
      if (!series.length || series.every((s) => s.values.every((v) => v == null))) {
        emptyChart(l.box, empty, 80);
        return l;
      }
      l.box.replaceChildren();
      l.chart = timeChart(l.box, {...common, times, series, yFmt, height});
      return l;
    };
    const valueAt = (chart, si, t) => {
      const i = Math.round((t - first) / stepMs);
      const s = chart.opts.series[si];
      return s && i >= 0 && i < s.values.length ? s.values[i] : null;
    };

    // Golden signals.
    if (!failed(lanes.get('rate'), rateR, 'Rate')) {
      lines('rate', onGridOf(rateR).slice(0, 1).map((s) => ({...s, label: 'req/s'})), rate, 'No requests in this range.')
        .click = (t) => ctx.navigate(`/traces?service=${q(service)}&${rangeQ(t)}`);
    }
    if (!failed(lanes.get('errors'), errR, 'Errors')) {
      lines('errors', onGridOf(errR).slice(0, 1).map((s) => ({...s, label: 'errors', color: cssVar('--err')})), (v) => pct(v), 'No requests in this range.')
        .click = (t) => ctx.navigate(`/traces?service=${q(service)}&tags=${q('error=true')}&${rangeQ(t)}`);
    }
    const lat = [[p50, 'p50'], [p95, 'p95'], [p99, 'p99']].filter(([r]) => !(r && r.error)).map(([r, n]) => ({...(onGridOf(r)[0] || {values: []}), label: n}))
      .filter((s) => s.values.length);
    const latLane = lines('latency', lat, (v) => dur(v), 'No latency in this range.');
    latLane.click = (t) => {
      const v = latLane.chart ? valueAt(latLane.chart, Math.min(1, latLane.chart.opts.series.length - 1), t) : null;
      ctx.navigate(`/traces?service=${q(service)}${v ? `&minDuration=${Math.floor(v)}ms` : ''}&${rangeQ(t)}`);
    };

    // Log volume by level.
    const logLane = lanes.get('logs');
    if (!failed(logLane, vol, 'Logs')) {
      const res = (vol.result || []).slice();
      // Log buckets are aligned on multiples of the step, as the Logs page draws them.
      const volStep = (vol.step || step) * 1000;
      const vFirst = Math.floor(start / volStep) * volStep;
      const vTimes = [];
      for (let t = vFirst; t < end; t += volStep) vTimes.push(t);
      const rank = (lv) => {
        const i = LEVEL_ORDER.indexOf(String(lv).toLowerCase());
        return i < 0 ? LEVEL_ORDER.length : i;
      };
      res.sort((a, b) => rank(a.metric.level || '') - rank(b.metric.level || ''));
      const series = res.map((s) => {
        const values = new Array(vTimes.length).fill(0);
        for (const [ts, c] of s.values) {
          const i = Math.round((ts * 1000 - vFirst) / volStep);
          if (i >= 0 && i < values.length) values[i] += Number(c);
        }
        const lv = s.metric.level || '';
        return {label: lv || 'no level', values, color: levelColor(lv), level: lv};
      });
      if (!series.length) emptyChart(logLane.box, 'No log lines of this service in this range.', 80);
      else {
        logLane.box.replaceChildren();
        logLane.chart = timeChart(logLane.box, {...common, kind: 'bars', stacked: true, times: vTimes, series, height: 110, yFmt: (v) => int(v)});
        logLane.click = (t, u) => {
          const b0 = u.cursor.idx != null ? vTimes[u.cursor.idx] : Math.floor(t / volStep) * volStep;
          ctx.navigate(`/logs?q=${q(logsQ)}&from=${q(iso(b0))}&to=${q(iso(b0 + volStep))}`);
        };
      }
    }

    // Slow and failed traces.
    const trLane = lanes.get('traces');
    if (!failed(trLane, traceAns, 'Traces')) {
      const sample = [...traceAns, ...(Array.isArray(errTraceAns) ? errTraceAns : [])];
      const {points, threshold, sample: n} = slowAndFailed(sample);
      trLane.note.textContent = n
        ? `${int(points.length)} of ${int(n)} traces sampled: failed, or at least ${dur(threshold)} (the slowest tenth)` +
          (traceAns.length >= TRACE_SAMPLE ? ` — the newest ${TRACE_SAMPLE} only; narrow the range to see all.` : '.')
        : '';
      if (!points.length) emptyChart(trLane.box, 'No traces of this service in this range.', 80);
      else {
        trLane.box.replaceChildren();
        trLane.chart = scatter(trLane.box, {...common, points, height: 130, yFmt: (v) => dur(v),
          groups: [{key: 'failed', label: 'failed', color: cssVar('--err')}, {key: 'slow', label: 'slow', color: cssVar('--warn')}],
          onClick: (p) => ctx.navigate(`/traces/${q(p.id)}`)});
      }
    }

    // Alert state: rule alerts (ALERTS), Alertmanager alerts about the service, notifications.
    const alLane = lanes.get('alerts');
    const ruleSeries = alertR && !alertR.error ? onGridOf(alertR).map((s) => ({label: s.metric.alertname || 'alert', values: s.values, alertname: s.metric.alertname})) : [];
    const ivs = Array.isArray(amAlerts) ? alertIntervals(amAlerts, service, start, end) : [];
    const byName = new Map();
    for (const iv of ivs) {
      if (!byName.has(iv.name)) byName.set(iv.name, []);
      byName.get(iv.name).push(iv);
    }
    const amSeries = [...byName].filter(([n]) => !ruleSeries.some((s) => s.alertname === n))
      .map(([n, list]) => ({label: `${n} (Alertmanager)`, values: onGrid(times, list, 2), alertname: n}));
    const since = Array.isArray(sinceR) ? sinceR.map((r) => `${r.metric.alertname} active since ${ctx.fmtTime(parseFloat(r.value[1]) * 1000)}`) : [];
    alLane.note.textContent = [
      alertR && alertR.error ? `ALERTS: ${alertR.error.message}` : '',
      amAlerts && amAlerts.error ? `Alertmanager: ${amAlerts.error.message}` : '',
      since.join('; '),
    ].filter(Boolean).join(' · ');
    const alertSeries = [...ruleSeries, ...amSeries];
    lines('alerts', alertSeries, (v) => (v >= 2 ? 'firing' : v >= 1 ? 'pend.' : v === 0 ? '' : num(v)), 'No alert about this service in this range.', 120)
      .click = (t, u) => {
        const chart = alLane.chart;
        const hit = chart && chart.opts.series.find((s, i) => valueAt(chart, i, t) != null);
        ctx.navigate(hit && hit.alertname ? `/alerts?filter=${q(`alertname="${esc(hit.alertname)}"`)}` : `/alerts?filter=${q(`service="${esc(service)}"`)}`);
      };

    const nLane = lanes.get('notifications');
    if (!failed(nLane, history, 'Notifications')) {
      const sent = notificationsFor(history, service).map((n) => ({t: Date.parse(n.time), y: n.alerts, group: n.error ? 'failed' : n.status, n}))
        .filter((p) => p.t >= start && p.t <= end);
      if (!sent.length) emptyChart(nLane.box, 'No notification about this service in this range (the history is kept in memory since start).', 60);
      else {
        nLane.box.replaceChildren();
        nLane.chart = scatter(nLane.box, {...common, points: sent, height: 110, yFmt: (v) => int(v),
          groups: [{key: 'firing', label: 'firing', color: cssVar('--err')}, {key: 'resolved', label: 'resolved', color: cssVar('--ok')}, {key: 'failed', label: 'delivery failed', color: cssVar('--warn')}],
          onClick: () => ctx.navigate('/alerts?tab=history')});
      }
    }

    // SLO burn.
    const sloLane = lanes.get('slo');
    if (!failed(sloLane, slos, 'SLOs')) {
      const series = burns.filter((b) => !(b.r && b.r.error)).map((b) => ({...(onGridOf(b.r)[0] || {values: new Array(times.length).fill(null)}), label: `${b.slo.name} (${b.w})`, slo: b.slo.name}));
      sloLane.note.textContent = slos.length
        ? slos.map((s) => `${s.name}: objective ${s.objective > 1 ? s.objective + '%' : pct(s.objective, 4)}, budget remaining ${s.budget_remaining == null ? 'no data' : pct(s.budget_remaining)}`).join(' · ')
        : '';
      lines('slo', series, (v) => num(v) + '×', slos.length ? 'No burn rate recorded in this range yet.' : 'No SLO for this service.', 120)
        .click = (t) => {
          const chart = sloLane.chart;
          const hit = chart && chart.opts.series.find((s, i) => valueAt(chart, i, t) != null);
          ctx.navigate(`/slos/${q((hit || series[0]).slo)}`);
        };
    }
  }

  await load();
  return {
    update: (c) => {
      if (c.reason === 'params' || c.reason === 'nav') services = c.reason === 'nav' ? null : services;
      return load();
    },
    unmount() {
      if (abort) abort.abort();
      freeCharts();
    },
  };
}
