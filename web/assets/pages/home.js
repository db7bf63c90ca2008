// Home: every service seen in traces (span metrics, the Jaeger service list) or in metrics (a
// scrape job or a pushed job label) with its golden signals over the selected range — request
// rate, error ratio, p50/p95/p99 latency, trends — its SLO budgets and its firing alerts.

import {h} from '../lib/dom.js';
import {sparkline} from '../lib/chart.js';
import {queries, byLabel, budgetClass, budgetText, severityClass, serviceOf, alertsHref} from '../lib/golden.js';
import {int, num, pct, rate, dur, promDuration} from '../lib/fmt.js';

export const title = 'Services';

const SPARK_POINTS = 40;

export async function mount(el, ctx) {
  const errEl = h('div', {hidden: true});
  const noticeEl = h('div', {hidden: true});
  const summary = h('div', {class: 'vg-muted vg-small'});
  const filter = h('input', {type: 'search', class: 'vg-input', style: {maxWidth: '260px'}, placeholder: 'filter services', 'aria-label': 'Filter services'});
  const body = h('div', {class: 'vg-table-wrap'});
  const card = h('div', {class: 'vg-card'}, body);
  el.append(
    h('div', {class: 'svc-head'}, h('h1', null, 'Services'), summary),
    h('div', {class: 'vg-toolbar'}, filter, h('span', {class: 'vg-spacer'}),
      h('span', {class: 'vg-small vg-muted'}, 'Rate, errors and latency over the selected range; server spans for traced services.')),
    errEl, noticeEl, card);
  filter.value = ctx.params.get('filter') || '';
  filter.addEventListener('input', () => ctx.setParams({filter: filter.value || null}, {replace: true}));
  ctx.shortcut('/', 'Filter services', () => filter.focus());

  let abort = null;
  let rows = null;

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    const {start, end} = ctx.range();
    const w = promDuration(end - start);
    const step = Math.max(ctx.step(SPARK_POINTS), 15);
    const rw = promDuration(Math.max(step * 2, 60) * 1000);
    const time = end / 1000;
    const inst = (query) => ctx.api('/api/v1/query', {query, time}, {signal}).then((r) => r.data.result);
    const range = (query) => ctx.api('/api/v1/query_range', {query, start: start / 1000, end: end / 1000, step}, {signal}).then((r) => r.data.result);
    const soft = (p, what, problems) => p.catch((err) => {
      if (err.name === 'AbortError') throw err;
      problems.push(`${what}: ${err.message}`);
      return null;
    });
    ctx.busy(card, true);
    const problems = [];
    try {
      const s = queries('spans', w);
      const m = queries('http', w);
      const sr = queries('spans', rw);
      const mr = queries('http', rw);
      const [sRate, sErr, s50, s95, s99, mRate, mErr, m50, m95, m99, sTrend, sErrTrend, mTrend, mErrTrend, up, cpu, jaeger, jobs, slos, alerts] = await Promise.all([
        soft(inst(s.rate), 'span metrics', problems), soft(inst(s.errors), 'span errors', problems),
        soft(inst(s.p50), 'latency', problems), soft(inst(s.p95), 'latency', problems), soft(inst(s.p99), 'latency', problems),
        soft(inst(m.rate), 'http metrics', problems), soft(inst(m.errors), 'http errors', problems),
        soft(inst(m.p50), 'latency', problems), soft(inst(m.p95), 'latency', problems), soft(inst(m.p99), 'latency', problems),
        soft(range(sr.rate), 'trend', problems), soft(range(sr.errors), 'trend', problems),
        soft(range(mr.rate), 'trend', problems), soft(range(mr.errors), 'trend', problems),
        soft(inst('up'), 'up', problems),
        // Saturation where known: CPU used, from the process collector every Prometheus
        // client library and OpenTelemetry's Prometheus translation export.
        soft(inst(`sum by (job) (rate(process_cpu_seconds_total[${w}]))`), 'cpu', problems),
        soft(ctx.api('/api/services', null, {signal}).then((r) => r.data || []), 'trace services', problems),
        soft(ctx.api('/api/v1/label/job/values', {start: start / 1000, end: end / 1000}, {signal}).then((r) => r.data || []), 'jobs', problems),
        soft(ctx.api('/api/v1/slos', null, {signal}).then((r) => r.data || []), 'SLOs', problems),
        soft(ctx.api('/api/v2/alerts', {active: 'true', silenced: 'false', inhibited: 'false'}, {signal}), 'alerts', problems),
      ]);
      const svcs = new Map();
      const get = (name) => {
        if (!svcs.has(name)) svcs.set(name, {name, sources: new Set(), slos: [], alerts: []});
        return svcs.get(name);
      };
      const fill = (src, label, r, e, q50, q95, q99, trend, errTrend) => {
        const rm = byLabel(r, label), em = byLabel(e, label), a = byLabel(q50, label), b = byLabel(q95, label), c = byLabel(q99, label);
        for (const [name, v] of rm) {
          if (!name) continue;
          const x = get(name);
          if (x.rate != null) continue; // span metrics win over http metrics
          x.src = src;
          x.sources.add(src === 'spans' ? 'traces' : 'metrics');
          Object.assign(x, {rate: v, errors: em.get(name), p50: a.get(name), p95: b.get(name), p99: c.get(name)});
          const t = (trend || []).find((s) => s.metric[label] === name);
          const et = (errTrend || []).find((s) => s.metric[label] === name);
          x.trend = t ? t.values.map((p) => parseFloat(p[1])) : [];
          x.errTrend = et ? et.values.map((p) => parseFloat(p[1])) : [];
        }
      };
      fill('spans', 'service_name', sRate, sErr, s50, s95, s99, sTrend, sErrTrend);
      fill('http', 'job', mRate, mErr, m50, m95, m99, mTrend, mErrTrend);
      for (const n of jaeger || []) get(n).sources.add('traces');
      for (const n of jobs || []) get(n).sources.add('metrics');
      for (const r of up || []) {
        const j = r.metric.job;
        if (!j) continue;
        const x = get(j);
        x.sources.add('metrics');
        x.up = (x.up || 0) + (parseFloat(r.value[1]) === 1 ? 1 : 0);
        x.targets = (x.targets || 0) + 1;
      }
      for (const [j, v] of byLabel(cpu, 'job')) if (j && svcs.has(j)) svcs.get(j).cpu = v;
      for (const s of slos || []) if (s.service) get(s.service).slos.push(s);
      let orphans = 0;
      for (const a of alerts || []) {
        const name = serviceOf(a.labels || {});
        if (name && svcs.has(name)) get(name).alerts.push(a);
        else if (name) get(name).alerts.push(a);
        else orphans++;
      }
      rows = [...svcs.values()].sort((a, b) => a.name.localeCompare(b.name));
      ctx.error(errEl, problems.length ? {message: 'Some signals could not be read: ' + [...new Set(problems)].join('; ')} : null);
      summary.textContent = `${rows.length} services · ${int((alerts || []).length)} firing alerts` +
        (orphans ? ` (${orphans} not tied to a service — see Alerts)` : '');
      draw();
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) ctx.busy(card, false);
    }
  }

  function draw() {
    if (!rows) return;
    const f = (ctx.params.get('filter') || '').toLowerCase();
    const shown = rows.filter((r) => !f || r.name.toLowerCase().includes(f));
    if (!rows.length) {
      body.replaceChildren(h('div', {class: 'vg-empty-page'},
        h('p', null, 'No service has sent traces or metrics in this range yet.'),
        h('p', null, 'Point an OpenTelemetry SDK at 127.0.0.1:4317 (gRPC) or :4318 (HTTP), or Prometheus remote_write at /api/v1/write — see the README.')));
      return;
    }
    body.replaceChildren(h('table', {class: 'vg-table svc-table'},
      h('thead', null, h('tr', null,
        h('th', null, 'Service'), h('th', {class: 'num'}, 'Rate'), h('th', {class: 'num'}, 'Errors'),
        h('th', {class: 'num hide-narrow'}, 'p50'), h('th', {class: 'num hide-narrow'}, 'p95'), h('th', {class: 'num'}, 'p99'),
        h('th', {class: 'num hide-narrow', title: 'CPU cores used (process_cpu_seconds_total), where the service exports it'}, 'CPU'),
        h('th', {class: 'hide-narrow'}, 'Rate trend'), h('th', {class: 'hide-narrow'}, 'Error trend'),
        h('th', null, 'SLOs'), h('th', null, 'Alerts'))),
      h('tbody', null, shown.map((r) => {
        const errClass = r.errors == null ? '' : r.errors >= 0.05 ? 'vg-err-text' : r.errors >= 0.01 ? 'vg-warn-text' : '';
        return h('tr', {'data-service': r.name},
          h('td', {class: 'name'}, h('a', {href: `/services/${encodeURIComponent(r.name)}`}, r.name), ' ',
            h('a', {href: `/incident?service=${encodeURIComponent(r.name)}`, class: 'vg-small hide-narrow', 'data-link': 'incident', title: 'Incident timeline: every signal of this service on one time axis'}, 'timeline'), ' ',
            [...r.sources].map((s) => h('span', {class: 'vg-badge hide-narrow', title: `seen in ${s}`}, s)),
            r.targets ? h('span', {class: 'vg-badge ' + (r.up === r.targets ? 'ok' : 'err'), title: 'scrape targets up'}, `${r.up}/${r.targets} up`) : null),
          h('td', {class: 'num c-rate'}, r.rate != null ? rate(r.rate) : '–'),
          h('td', {class: 'num c-errors ' + errClass}, r.errors != null ? pct(r.errors) : '–'),
          h('td', {class: 'num c-p50 hide-narrow'}, r.p50 != null ? dur(r.p50) : '–'),
          h('td', {class: 'num c-p95 hide-narrow'}, r.p95 != null ? dur(r.p95) : '–'),
          h('td', {class: 'num c-p99'}, r.p99 != null ? dur(r.p99) : '–'),
          h('td', {class: 'num c-cpu hide-narrow'}, r.cpu != null ? num(r.cpu) + ' cores' : '–'),
          h('td', {class: 'spark hide-narrow'}, r.trend ? sparkline(r.trend, {title: 'request rate over the range'}) : ''),
          h('td', {class: 'spark hide-narrow'}, r.errTrend ? sparkline(r.errTrend, {color: 'var(--err)', title: 'error ratio over the range'}) : ''),
          h('td', null, h('div', {class: 'svc-alerts'}, r.slos.map((s) => h('a', {href: `/slos/${encodeURIComponent(s.name)}`,
            class: 'vg-badge ' + budgetClass(s.budget_remaining), title: `${s.name}: objective ${s.objective}%, budget remaining ${pct(s.budget_remaining)}`},
          `${s.name.replace(r.name + '.', '').replace(r.name + '-', '')}: ${budgetText(s.budget_remaining)}`)))),
          h('td', null, h('div', {class: 'svc-alerts'}, alertBadges(r.alerts))));
      }))));
    if (shown.length < rows.length) ctx.notice(noticeEl, `Showing ${shown.length} of ${rows.length} services matching "${f}".`);
    else ctx.notice(noticeEl, null);
  }

  function alertBadges(alerts) {
    if (!alerts.length) return [h('span', {class: 'vg-muted'}, 'none')];
    const bySev = new Map();
    for (const a of alerts) {
      const s = (a.labels && a.labels.severity) || 'none';
      if (!bySev.has(s)) bySev.set(s, []);
      bySev.get(s).push(a);
    }
    return [...bySev].map(([sev, list]) => h('a', {href: alertsHref(list[0].labels),
      class: 'vg-badge ' + severityClass(sev), title: list.map((a) => a.labels.alertname).join(', ')},
    `${list.length} ${sev}`));
  }

  const update = async (c) => {
    if (c && c.reason === 'params') return draw();
    await load();
  };
  await load();
  return {
    update,
    unmount() {
      if (abort) abort.abort();
    },
  };
}
