// SLOs: every SLO from /api/v1/slos, least budget remaining first, with its objective,
// current SLI, budget remaining, burn rate per window and burn-alert state.
import { h, loadCSS, unwrap } from '../lib/slo-dom.js';
import { sortByBudget, windowOrder, pct, burnClass, budgetClass } from '../lib/slo-math.js';

export const title = 'SLOs';

export async function mount(el, ctx) {
  loadCSS('/pages/slos.css');
  const filter = h('input', { type: 'search', class: 'slo-filter', placeholder: 'filter by name or service', 'aria-label': 'filter SLOs' });
  const errBox = h('div', { class: 'slo-error' });
  const summary = h('p', { class: 'slo-summary muted' });
  const table = h('div', { class: 'slo-table-wrap' });
  el.append(h('div', { class: 'slo-page' },
    h('div', { class: 'slo-head' }, h('h1', null, 'SLOs'), filter), errBox, summary, table));
  let data = null;
  let ctl = null;

  ctx.shortcut('/', 'Focus the SLO filter', () => filter.focus());
  filter.value = ctx.params.get('q') || '';
  filter.addEventListener('input', () => ctx.setParams({ q: filter.value }, { replace: true }));

  async function load(c) {
    ctl?.abort();
    ctl = new AbortController();
    const signal = ctl.signal;
    ctx.busy(el, true);
    try {
      const list = unwrap(await c.api('/api/v1/slos', null, { signal }));
      data = list;
      errBox.replaceChildren();
      render(c);
    } catch (err) {
      if (err.name === 'AbortError') return;
      errBox.replaceChildren();
      c.error(errBox, err);
    } finally {
      if (!signal.aborted) ctx.busy(el, false);
    }
  }

  function render(c) {
    if (!data) return;
    const q = (c.params.get('q') || '').toLowerCase();
    const shown = sortByBudget(data).filter(s => !q || s.name.toLowerCase().includes(q) || (s.service || '').toLowerCase().includes(q));
    const windows = windowOrder([...new Set(data.flatMap(s => Object.keys(s.burn_rates || {})))]);
    const firing = data.filter(s => s.alert_state === 'firing').length;
    const spent = data.filter(s => s.budget_remaining != null && s.budget_remaining <= 0).length;
    summary.textContent = `${data.length} SLO${data.length === 1 ? '' : 's'}` +
      (q ? `, ${shown.length} matching "${q}"` : '') +
      `; ${spent} with the budget spent, ${firing} burning fast enough to alert. Least budget remaining first.`;
    if (!data.length) {
      table.replaceChildren(h('p', { class: 'muted' }, 'No SLOs are configured. Add files under slo.files in the configuration (see the README, "SLOs").'));
      return;
    }
    const head = h('tr', null,
      h('th', null, 'SLO'), h('th', null, 'Service'), h('th', { class: 'num' }, 'Objective'),
      h('th', { class: 'num' }, 'SLI'), h('th', null, 'Budget remaining'),
      ...windows.map(w => h('th', { class: 'num', title: `burn rate over ${w}: error ratio ÷ error budget` }, `burn ${w}`)),
      h('th', null, 'Alert'));
    const rows = shown.map(s => {
      const br = s.budget_remaining;
      const width = br == null ? 0 : Math.max(0, Math.min(1, br)) * 100;
      return h('tr', { class: `slo-row state-${s.alert_state}` },
        h('td', null, h('a', { href: `/slos/${encodeURIComponent(s.name)}`, onclick: e => { if (!e.ctrlKey && !e.metaKey) { e.preventDefault(); c.navigate(`/slos/${encodeURIComponent(s.name)}`); } } }, s.name),
          s.description ? h('div', { class: 'muted small' }, s.description) : null),
        h('td', null, s.service ? h('a', { href: `/services/${encodeURIComponent(s.service)}` }, s.service) : '–'),
        h('td', { class: 'num' }, pct(s.objective), h('div', { class: 'muted small' }, s.window)),
        h('td', { class: 'num' }, s.sli == null ? h('span', { class: 'muted', title: 'no data recorded yet' }, 'no data') : pct(s.sli)),
        h('td', null, h('div', { class: `budget ${budgetClass(br)}` },
          h('div', { class: 'budget-bar' }, h('div', { class: 'budget-fill', style: { width: `${width}%` } })),
          h('span', { class: 'budget-num' }, br == null ? 'no data' : pct(br, 1)))),
        ...windows.map(w => {
          const b = s.burn_rates?.[w];
          return h('td', { class: `num burn ${burnClass(b)}` }, b == null ? '–' : `${+b.toFixed(b < 10 ? 2 : 1)}×`);
        }),
        h('td', null, h('span', { class: `pill ${s.alert_state}` }, s.alert_state)));
    });
    table.replaceChildren(h('table', { class: 'slo-table' }, h('thead', null, head), h('tbody', null, rows)));
  }

  let lastQ = ctx.params.get('q') || '';
  await load(ctx);
  return {
    update(c) {
      ctx = c;
      if (filter.value !== (c.params.get('q') || '') && document.activeElement !== filter) filter.value = c.params.get('q') || '';
      // A filter change only re-renders; a refresh tick or range change reloads.
      if (data && (c.params.get('q') || '') !== lastQ) { lastQ = c.params.get('q') || ''; render(c); return; }
      load(c);
    },
    unmount() { ctl?.abort(); },
  };
}
