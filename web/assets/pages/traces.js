// Trace search: service, operation, tags, duration bounds and the time range, through the
// Jaeger API (/api/traces). Results as a scatter of duration over time (errors in their own
// colour; click a point to open the trace; drag to narrow the range) and as a list.
import { h, loadCSS, colourOf } from '../lib/slo-dom.js';
import { plot } from '../lib/slo-plot.js';
import { summarize, parseTags } from '../lib/trace-search.js';
import { formatMicros } from '../lib/trace-model.js';

export const title = 'Traces';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1500; // the server's cap (Jaeger UI's too)

export async function mount(el, ctx) {
  loadCSS('/pages/traces.css');
  const svcSel = h('select', { class: 'vg-select', 'aria-label': 'service' });
  const opSel = h('select', { class: 'vg-select', 'aria-label': 'operation' });
  const tagsIn = h('input', { class: 'vg-input', placeholder: 'http.status_code=500 error=true', 'aria-label': 'tags' });
  const minIn = h('input', { class: 'vg-input tr-dur', placeholder: 'e.g. 100ms', 'aria-label': 'minimum duration' });
  const maxIn = h('input', { class: 'vg-input tr-dur', placeholder: 'e.g. 2s', 'aria-label': 'maximum duration' });
  const limitIn = h('input', { class: 'vg-input tr-limit', type: 'number', min: 1, max: MAX_LIMIT, 'aria-label': 'limit' });
  const sortSel = h('select', { class: 'vg-select', 'aria-label': 'sort' },
    h('option', { value: 'recent' }, 'most recent'), h('option', { value: 'longest' }, 'longest first'),
    h('option', { value: 'errors' }, 'most errors'), h('option', { value: 'spans' }, 'most spans'));
  const runBtn = h('button', { class: 'vg-btn vg-primary', type: 'submit' }, 'Find traces');
  const form = h('form', { class: 'tr-search' },
    field('Service', svcSel), field('Operation', opSel), field('Tags (key=value, space separated)', tagsIn, 'wide'),
    field('Min duration', minIn), field('Max duration', maxIn), field('Limit', limitIn), h('div', { class: 'tr-run' }, runBtn));
  const errBox = h('div');
  const capBox = h('div');
  const summary = h('p', { class: 'vg-muted vg-small' });
  const chartEl = h('div', { class: 'vg-chart tr-scatter' });
  const listEl = h('div', { class: 'vg-table-wrap' });
  const result = h('div', { class: 'tr-result' }, capBox, summary, chartEl,
    h('div', { class: 'vg-toolbar' }, h('span', { class: 'vg-muted vg-small' }, 'Sort'), sortSel), listEl);
  el.append(h('div', { class: 'tr-page' }, h('h1', null, 'Traces'), form, errBox, result));

  let chart = null;
  let ctl = null;
  let traces = null;
  let services = [];
  let lastKey = null;   // the search the shown result answers (URL state without the sort)
  let lastRange = null;

  function searchKey(c) {
    const p = new URLSearchParams(c.params);
    p.delete('sort');
    p.sort();
    return p.toString();
  }

  function field(label, input, cls) {
    return h('label', { class: `tr-field ${cls || ''}` }, h('span', null, label), input);
  }

  ctx.shortcut('/', 'Focus the tags box of the trace search', () => tagsIn.focus());
  form.addEventListener('submit', e => { e.preventDefault(); submit(); });
  el.addEventListener('vigil:run', () => submit());
  svcSel.addEventListener('change', () => { loadOps(svcSel.value); });
  sortSel.addEventListener('change', () => ctx.setParams({ sort: sortSel.value === 'recent' ? null : sortSel.value }, { replace: true }));

  function submit() {
    ctx.setParams({
      service: svcSel.value, operation: opSel.value, tags: tagsIn.value.trim(),
      minDuration: minIn.value.trim(), maxDuration: maxIn.value.trim(),
      limit: limitIn.value && Number(limitIn.value) !== DEFAULT_LIMIT ? limitIn.value : null,
    });
  }

  async function loadServices() {
    try {
      const ans = await ctx.api('/api/services');
      services = (ans.data || []).slice().sort();
    } catch (err) {
      ctx.error(errBox, err);
      services = [];
    }
    svcSel.replaceChildren(...services.map(s => h('option', { value: s }, s)));
    if (!services.length) svcSel.append(h('option', { value: '' }, '(no services yet)'));
  }

  async function loadOps(service, selected = '') {
    opSel.replaceChildren(h('option', { value: '' }, 'all operations'));
    if (!service) return;
    try {
      const ans = await ctx.api(`/api/services/${encodeURIComponent(service)}/operations`);
      for (const op of (ans.data || []).slice().sort()) opSel.append(h('option', { value: op }, op));
      if (selected && ![...opSel.options].some(o => o.value === selected)) opSel.append(h('option', { value: selected }, selected));
      opSel.value = selected;
    } catch (err) {
      ctx.error(errBox, err);
    }
  }

  function readForm(c) {
    const p = c.params;
    const service = p.get('service') || services[0] || '';
    if (![...svcSel.options].some(o => o.value === service) && service) svcSel.append(h('option', { value: service }, service));
    svcSel.value = service;
    tagsIn.value = p.get('tags') || '';
    minIn.value = p.get('minDuration') || '';
    maxIn.value = p.get('maxDuration') || '';
    limitIn.value = p.get('limit') || DEFAULT_LIMIT;
    sortSel.value = p.get('sort') || 'recent';
    return { service, operation: p.get('operation') || '' };
  }

  async function search(c) {
    const { service, operation } = readForm(c);
    if (opSel.dataset.for !== service || opSel.value !== operation) {
      opSel.dataset.for = service;
      await loadOps(service, operation);
    }
    if (!service) {
      summary.textContent = 'No service has sent spans yet: send traces over OTLP (port 4317 or 4318) or Zipkin.';
      return;
    }
    const p = c.params;
    let tags;
    try {
      tags = parseTags(p.get('tags') || '');
    } catch (err) {
      c.error(errBox, err);
      return;
    }
    const limit = Math.min(MAX_LIMIT, Math.max(1, Number(p.get('limit')) || DEFAULT_LIMIT));
    const { start, end } = c.range();
    ctl?.abort();
    ctl = new AbortController();
    const signal = ctl.signal;
    c.busy(result, true);
    try {
      const ans = await c.api('/api/traces', {
        service, operation, tags: Object.keys(tags).length ? JSON.stringify(tags) : '',
        minDuration: p.get('minDuration') || '', maxDuration: p.get('maxDuration') || '',
        start: Math.floor(start * 1000), end: Math.ceil(end * 1000), limit,
      }, { signal });
      c.error(errBox, null);
      lastKey = searchKey(c);
      lastRange = { start, end };
      traces = (ans.data || []).map(summarize);
      const capped = traces.length >= limit;
      const serverCap = (ans.errors || []).map(e => e.msg);
      c.notice(capBox, capped || serverCap.length
        ? `Showing ${traces.length.toLocaleString('en-US')} traces${capped ? `, the limit (${limit})` : ''}${serverCap.length ? `; the server stopped early: ${serverCap.join('; ')}` : ''} — narrow the range, add filters${limit < MAX_LIMIT ? ` or raise the limit (up to ${MAX_LIMIT})` : ''}.`
        : '');
      render(c, { start, end, limit });
    } catch (err) {
      if (err.name === 'AbortError') return;
      c.error(errBox, err);
    } finally {
      if (!signal.aborted) c.busy(result, false);
    }
  }

  function render(c, { start, end }) {
    if (!traces) return;
    const errs = traces.filter(t => t.errors).length;
    summary.textContent = `${traces.length} trace${traces.length === 1 ? '' : 's'} from ${c.fmtTime(start)} to ${c.fmtTime(end)}` +
      (traces.length ? `, ${errs} with errors. Click a point or a row to open the trace; drag across the chart to narrow the range.` : '.');
    // Scatter: x sorted ascending; one series for traces without errors and one with.
    const pts = traces.slice().sort((a, b) => a.start - b.start);
    chart?.destroy();
    chart = null;
    if (pts.length) {
      chart = plot(chartEl, {
        ctx: c, scatter: true, height: 200, yLog: true,
        xs: pts.map(t => t.start / 1e6),
        yLabel: 'duration (log)', yFmt: v => formatMicros(v * 1000),
        xRange: [start / 1000, end / 1000],
        series: [
          { label: 'ok', values: pts.map(t => t.errors ? null : Math.max(t.duration, 1) / 1000), color: '--c1' },
          { label: 'with errors', values: pts.map(t => t.errors ? Math.max(t.duration, 1) / 1000 : null), color: '--err' },
        ],
        onPick: i => c.navigate(`/traces/${pts[i].traceID}`),
        onSelect: (a, b) => c.setRange(a, b),
      });
    } else {
      chartEl.replaceChildren(h('div', { class: 'vg-chart-empty' }, 'No traces match in this range.'));
    }
    const sort = c.params.get('sort') || 'recent';
    const rows = traces.slice().sort({
      recent: (a, b) => b.start - a.start,
      longest: (a, b) => b.duration - a.duration,
      errors: (a, b) => b.errors - a.errors || b.start - a.start,
      spans: (a, b) => b.spans - a.spans || b.start - a.start,
    }[sort] || ((a, b) => b.start - a.start));
    listEl.replaceChildren(h('table', { class: 'vg-table tr-list' },
      h('thead', null, h('tr', null, h('th', null, 'Trace'), h('th', null, 'Started'), h('th', { class: 'num' }, 'Duration'),
        h('th', { class: 'num' }, 'Spans'), h('th', { class: 'num' }, 'Errors'), h('th', null, 'Services'))),
      h('tbody', null, rows.map(t => h('tr', { class: t.errors ? 'tr-has-err' : '' },
        h('td', null, h('a', { href: `/traces/${t.traceID}` }, h('strong', null, `${t.rootService}: `), t.rootName),
          h('div', { class: 'vg-muted vg-small mono' }, t.traceID)),
        h('td', { class: 'nowrap' }, c.fmtTime(t.start / 1000)),
        h('td', { class: 'num' }, formatMicros(t.duration)),
        h('td', { class: 'num' }, t.spans.toLocaleString('en-US')),
        h('td', { class: `num ${t.errors ? 'vg-err-text' : ''}` }, t.errors),
        h('td', null, t.services.slice(0, 6).map(s => h('span', { class: 'tr-svc-chip' }, h('i', { style: { background: colourOf(s.name) } }), `${s.name} ${s.count}`)),
          t.services.length > 6 ? h('span', { class: 'vg-muted' }, ` +${t.services.length - 6} more`) : null))))));
  }

  await loadServices();
  await search(ctx);
  return {
    update(c) {
      ctx = c;
      if (c.reason === 'params' && traces && onlySortChanged(c)) { render(c, lastRange); return; }
      search(c);
    },
    unmount() { ctl?.abort(); chart?.destroy(); },
  };

  // onlySortChanged: the URL differs from the last search in nothing but the sort order.
  function onlySortChanged(c) {
    return searchKey(c) === lastKey;
  }
}
