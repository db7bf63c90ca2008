// One SLO: objective, current SLI and budget remaining first; then the budget remaining over
// the SLO window (from /api/v1/slos/<name>), burn rates over the selected range (the recorded
// slo:sli_error:ratio_rate<window> series through /api/v1/query_range) and a burn-rate table
// with the multiplier and the time to exhaustion per window.
import { h, loadCSS, unwrap } from '../lib/slo-dom.js';
import { windowOrder, windowSeconds, exhaustion, pct, humanSeconds, burnClass, budgetClass } from '../lib/slo-math.js';
import { plot, palette } from '../lib/slo-plot.js';

export const title = 'SLO';

// Windows drawn on the burn-rate chart: the SRE Workbook's long windows.
const chartWindows = ['5m', '1h', '6h', '1d', '3d'];

export async function mount(el, ctx) {
  loadCSS('/pages/slos.css');
  const name = decodeURIComponent(ctx.path[0] || '');
  const errBox = h('div', { class: 'slo-error' });
  const lead = h('div', { class: 'slo-lead' });
  const budgetEl = h('div', { class: 'vg-chart slo-chart' });
  const budgetNote = h('p', { class: 'muted small' });
  const burnEl = h('div', { class: 'vg-chart slo-chart' });
  const burnErr = h('div', { class: 'slo-error' });
  const burnNote = h('p', { class: 'muted small' });
  const tableEl = h('div', { class: 'slo-table-wrap' });
  const alertsEl = h('div');
  el.append(h('div', { class: 'slo-page' },
    h('p', { class: 'crumbs' }, h('a', { href: '/slos', onclick: nav('/slos') }, 'SLOs'), ' / ', name),
    errBox, lead,
    h('h2', null, 'Error budget remaining over the SLO window'), budgetNote, budgetEl,
    h('h2', null, 'Burn rate per window'), tableEl, alertsEl,
    h('h2', null, 'Burn rate over the selected range'), burnNote, burnErr, burnEl));
  let charts = [];
  let ctl = null;

  function nav(href) {
    return e => { if (e.ctrlKey || e.metaKey) return; e.preventDefault(); ctx.navigate(href); };
  }

  async function load(c) {
    ctl?.abort();
    ctl = new AbortController();
    const signal = ctl.signal;
    ctx.busy(el, true);
    try {
      const meta = {};
      const s = unwrap(await c.api(`/api/v1/slos/${encodeURIComponent(name)}`, null, { signal, meta }));
      errBox.replaceChildren();
      renderLead(c, s, meta.sources);
      renderTable(c, s);
      renderBudget(c, s);
      await renderBurn(c, s, signal);
    } catch (err) {
      if (err.name === 'AbortError') return;
      errBox.replaceChildren();
      c.error(errBox, err);
    } finally {
      if (!signal.aborted) ctx.busy(el, false);
    }
  }

  function renderLead(c, s, sources) {
    const br = s.budget_remaining;
    const big = (label, value, cls, sub) => h('div', { class: `slo-big ${cls || ''}` },
      h('div', { class: 'slo-big-label' }, label), h('div', { class: 'slo-big-value' }, value),
      sub ? h('div', { class: 'muted small' }, sub) : null);
    lead.replaceChildren(...[
      h('h1', null, s.name, ' ', h('span', { class: `pill ${s.alert_state}` }, s.alert_state)),
      s.description ? h('p', null, s.description) : null,
      h('div', { class: 'slo-bigs' },
        big('Objective', pct(s.objective), '', `over ${s.window}, ${s.budgeting}`),
        big('Current SLI', s.sli == null ? 'no data' : pct(s.sli), s.sli != null && s.sli < s.objective ? 'crit' : 'ok', `${s.sli_kind} of ${s.service || 'no service'}`),
        big('Budget remaining', br == null ? 'no data' : pct(br, 1), budgetClass(br), br != null && br < 0
          ? `overspent: errors used ${+(1 - br).toFixed(1)}× the error budget of ${pct(s.error_budget, 3)}`
          : `error budget ${pct(s.error_budget, 3)} of ${s.budgeting === 'timeslices' ? 'time slices' : 'events'}`)),
      // Which metrics sources (query.metrics_sources) the figures came from, when any did.
      sources && sources !== 'local=ok' ? h('p', { class: 'muted small slo-sources' }, `Read from ${sources}.`) : null,
    ].filter(Boolean));
  }

  function renderTable(c, s) {
    const W = windowSeconds(s.window);
    const keys = windowOrder(Object.keys(s.burn_rates || {}));
    const alertsBy = {};
    for (const a of s.alerts || []) (alertsBy[a.long_window] ||= []).push(a);
    const rows = keys.map(w => {
      const b = s.burn_rates[w];
      const t = exhaustion(s.budget_remaining, b, W);
      const al = alertsBy[w] || [];
      return h('tr', null,
        h('td', null, w === s.window ? `${w} (SLO window)` : w),
        h('td', { class: `num burn ${burnClass(b)}` }, b == null ? 'no data' : `${+b.toFixed(b < 10 ? 2 : 1)}×`),
        h('td', { class: 'num' }, b == null ? '–' : pct(b * s.error_budget, 3)),
        h('td', { class: 'num' }, humanSeconds(t)),
        h('td', null, al.map(a => h('span', { class: `pill ${a.state}`, title: `${a.long_window} and ${a.short_window}` }, `${a.severity} ${a.state}`))));
    });
    tableEl.replaceChildren(
      h('table', { class: 'slo-table' },
        h('thead', null, h('tr', null, h('th', null, 'Window'), h('th', { class: 'num' }, 'Burn rate'),
          h('th', { class: 'num' }, 'Error ratio'), h('th', { class: 'num', title: 'how long the remaining budget lasts if errors continue at this window\'s rate' }, 'Budget exhausted in'), h('th', null, 'Burn alert'))),
        h('tbody', null, rows)),
      h('p', { class: 'muted small' }, `Burn rate = error ratio ÷ error budget (1× spends the whole budget in exactly ${s.window}). ` +
        'Alerts page at 14.4× (1h and 5m) and 6× (6h and 30m), and open tickets at 3× (1d and 2h) and 1× (3d and 6h), unless the SLO overrides them.' +
        (!isFinite(W) ? '' : ` Times to exhaustion assume the remaining ${pct(s.budget_remaining, 1)} of the budget and a ${s.window} window.`)));
  }

  function renderBudget(c, s) {
    const pts = s.series?.budget_remaining || [];
    charts.filter(x => x.el === budgetEl).forEach(x => x.chart.destroy());
    charts = charts.filter(x => x.el !== budgetEl);
    if (!pts.length) {
      budgetEl.replaceChildren(h('p', { class: 'muted' }, 'No budget data recorded over the window yet.'));
      budgetNote.textContent = '';
      return;
    }
    budgetNote.textContent = `From ${c.fmtTime(Date.parse(s.series.start))} to ${c.fmtTime(Date.parse(s.series.end))}, one point every ${s.series.step} (${pts.length} points).`;
    const [col] = palette(1);
    const chart = plot(budgetEl, {
      ctx: c, xs: pts.map(p => p[0]), xRange: [Date.parse(s.series.start) / 1000, Date.parse(s.series.end) / 1000], yLabel: 'budget remaining', yFmt: v => pct(v, 0),
      series: [{ label: 'budget remaining', values: pts.map(p => p[1]), color: col, fillAlpha: 0x22 }],
    });
    charts.push({ el: budgetEl, chart });
  }

  async function renderBurn(c, s, signal) {
    const { start, end } = c.range();
    const step = c.step(200);
    const wins = chartWindows.filter(w => w in (s.burn_rates || {}));
    const cols = palette(wins.length);
    burnErr.replaceChildren();
    let results;
    try {
      results = await Promise.all(wins.map(w => c.api('/api/v1/query_range', {
        query: `max(slo:sli_error:ratio_rate${w}{slo="${name.replace(/["\\]/g, '\\$&')}"}) / ${s.error_budget}`,
        start: start / 1000, end: end / 1000, step,
      }, { signal })));
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      c.error(burnErr, err);
      return;
    }
    charts.filter(x => x.el === burnEl).forEach(x => x.chart.destroy());
    charts = charts.filter(x => x.el !== burnEl);
    // One x axis over the range at the step; a window without a value at a step is a gap.
    const xs = [];
    for (let t = Math.ceil(start / 1000 / step) * step; t <= end / 1000; t += step) xs.push(t);
    const series = results.map((r, i) => {
      const vals = new Array(xs.length).fill(null);
      const pts = unwrap(r)?.result?.[0]?.values || [];
      for (const [t, v] of pts) {
        const k = Math.round((t - xs[0]) / step);
        if (k >= 0 && k < xs.length) vals[k] = Number(v);
      }
      return { label: `${wins[i]} burn`, values: vals, color: cols[i] };
    });
    const any = series.some(s2 => s2.values.some(v => v != null));
    // 1× spends exactly the whole budget over the SLO window: above the line the SLO is
    // heading for a miss.
    series.push({ label: '1× (budget parity)', values: xs.map(() => 1), color: '--fg-muted', dash: [4, 4], width: 1 });
    burnNote.textContent = `Recorded error ratio ÷ error budget, ${c.fmtTime(start)} to ${c.fmtTime(end)}, step ${step}s.` + (any ? '' : ' Nothing recorded in this range.');
    const chart = plot(burnEl, { ctx: c, xs, xRange: [start / 1000, end / 1000], series, yLabel: 'burn rate (×)', yFmt: v => `${+v.toFixed(2)}×`, onSelect: (a, b) => c.setRange(a, b) });
    charts.push({ el: burnEl, chart });
  }

  await load(ctx);
  return {
    update(c) { ctx = c; load(c); },
    unmount() { ctl?.abort(); charts.forEach(x => x.chart.destroy()); },
  };
}
