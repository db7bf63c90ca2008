// One trace as a waterfall: collapsible spans in virtualised rows, a span filter that hides or
// highlights, the critical path computed in a Web Worker, span details, and a link to the
// trace's logs. Traces over 10,000 spans are read through /api/v1/traces/<id>/tree: roots and
// a few levels first, children on expand, with what was left out stated.
import { h, loadCSS } from '../lib/slo-dom.js';
import { fromJaeger, treeSpans, mergeTree, visibleRows, parseFilter, matchAll, formatMicros, descendants } from '../lib/trace-model.js';
import { Waterfall } from '../lib/trace-waterfall.js';
import { fetchJaeger, isRouteMissing, padTraceID } from '../lib/trace-load.js';
import { spanDetails } from '../lib/trace-details.js';
import { int } from '../lib/fmt.js';

export const title = 'Trace';

export const MAX_FULL_SPANS = 10000; // above this, the tree API
const TREE_DEPTH = 3;
const TREE_LIMIT = 5000;

export async function mount(el, ctx) {
  loadCSS('/pages/traces.css');
  let id = ctx.path[0] || '';
  const errBox = h('div', { class: 'tr-error' });
  const head = h('div', { class: 'tr-head' });
  const capBox = h('div', { class: 'tr-cap' });
  const filterIn = h('input', { type: 'search', class: 'tr-filter', placeholder: 'filter: text, key=value, >10ms, error', title: 'terms are ANDed: text (in service, operation or attributes), key=value or key!=value (service, name, kind, status, any attribute), duration>10ms or <2s, error', 'aria-label': 'span filter' });
  const hideBox = h('input', { type: 'checkbox', id: 'tr-hide' });
  const critBox = h('input', { type: 'checkbox', id: 'tr-crit' });
  const filterInfo = h('span', { class: 'tr-filter-info muted' });
  const critInfo = h('span', { class: 'tr-crit-info muted' });
  const wfEl = h('div', { class: 'tr-wf' });
  const detailEl = h('aside', { class: 'tr-detail', hidden: true });
  const toolbar = h('div', { class: 'tr-toolbar' },
    filterIn,
    h('label', { title: 'show only matching spans (and their ancestors, dimmed, for context)' }, hideBox, ' hide non-matching'),
    h('button', { type: 'button', onclick: () => expandAll() }, 'Expand all'),
    h('button', { type: 'button', onclick: () => collapseTo(1) }, 'Collapse to roots'),
    h('label', { title: 'the chain of spans that decides the trace\'s duration' }, critBox, ' critical path'),
    filterInfo, critInfo);
  const mainEl = h('div', { class: 'tr-main' }, wfEl, detailEl);
  toolbar.hidden = mainEl.hidden = true; // until a trace is loaded
  el.append(h('div', { class: 'tr-page' }, errBox, head, capBox, toolbar, mainEl));

  let model = null;
  let tree = null;        // tree-API state: {spanCount, omitted, reason} when the trace is huge
  let collapsed = new Set();
  let filter = null;
  let match = null;
  let crit = null;        // Map span index -> segments
  let worker = null;
  let ctl = null;
  let seq = 0;
  const wf = new Waterfall(wfEl, { onToggle: toggle, onSelect: select });

  filterIn.addEventListener('input', () => ctx.setParams({ filter: filterIn.value }, { replace: true }));
  hideBox.addEventListener('change', () => ctx.setParams({ hide: hideBox.checked ? '1' : null }, { replace: true }));
  critBox.addEventListener('change', () => ctx.setParams({ crit: critBox.checked ? null : '0' }, { replace: true }));
  ctx.shortcut('/', 'Focus the span filter', () => filterIn.focus());
  ctx.shortcut('e', 'Expand every span', () => expandAll());
  ctx.shortcut('c', 'Collapse to the root spans', () => collapseTo(1));

  async function load(c) {
    ctl?.abort();
    ctl = new AbortController();
    const signal = ctl.signal;
    const my = ++seq;
    ctx.busy(el, true);
    try {
      // Timings of each step, for the browser suite's figures (performance.getEntriesByType('measure')).
      for (const n of ['download', 'parse', 'model', 'render']) performance.clearMeasures(`vigil.trace.${n}`);
      const t0 = performance.now();
      const got = await fetchJaeger(id, { signal, maxSpans: MAX_FULL_SPANS });
      performance.measure('vigil.trace.download', { start: t0, end: performance.now() });
      if (my !== seq) return;
      if (got.trace) {
        tree = null;
        const t1 = performance.now();
        model = fromJaeger(got.trace);
        performance.measure('vigil.trace.model', { start: t1, end: performance.now() });
        c.error(errBox, null);
        capBox.replaceChildren();
        if (got.warnings.length) capBox.append(h('div', { class: 'vg-notice' }, got.warnings.join('; ')));
      } else {
        await loadTree(c, got.tooMany, signal);
        if (my !== seq) return;
      }
      collapsed = new Set();
      toolbar.hidden = mainEl.hidden = false;
      const t2 = performance.now();
      renderHead(c);
      apply(c, true);
      performance.measure('vigil.trace.render', { start: t2, end: performance.now() });
      // A link to one span (?span=) scrolls to it.
      const sel = c.params.get('span');
      if (sel && model.byId.has(sel)) requestAnimationFrame(() => wf.scrollToSpan(model.byId.get(sel)));
      startCritical();
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (!model) toolbar.hidden = mainEl.hidden = true;
      c.error(errBox, err.status === 404 && !isRouteMissing(err)
        ? Object.assign(new Error(`Trace ${id} was not found. It may be older than the retention, or its spans may not have arrived yet.`), { status: 404 })
        : err);
    } finally {
      if (my === seq) ctx.busy(el, false);
    }
  }

  async function loadTree(c, seen, signal) {
    let ans;
    try {
      ans = await c.api(`/api/v1/traces/${encodeURIComponent(id)}/tree`, { depth: TREE_DEPTH, limit: TREE_LIMIT }, { signal });
    } catch (err) {
      if (isRouteMissing(err)) {
        model = null;
        throw Object.assign(new Error(`This trace has more than ${int(MAX_FULL_SPANS)} spans (the download stopped at ${int(seen)}). ` +
          'Opening it needs the summary API /api/v1/traces/<id>/tree, which this Vigil does not serve yet; ' +
          'no spans were drawn, to keep the page responsive.'), { status: 0 });
      }
      throw err;
    }
    tree = { spanCount: ans.spanCount, omitted: ans.omitted || 0, reason: ans.reason || '', services: ans.services || [], start: ans.start, end: ans.end };
    model = mergeTree(null, ans.traceID || id, treeSpans(ans));
    fixTreeBounds();
    renderTreeCap(c);
  }

  // The tree answer names the whole trace's bounds: the ruler must not change on expand.
  function fixTreeBounds() {
    if (tree && tree.start && tree.end) { model.start = tree.start; model.end = tree.end; }
  }

  function renderTreeCap(c) {
    if (!tree) return;
    const loaded = model.spans.length;
    c.notice(capBox, `Showing ${int(loaded)} of ${int(tree.spanCount)} spans; ${int(tree.spanCount - loaded)} are not loaded. ` +
      `This trace is over ${int(MAX_FULL_SPANS)} spans, so the server sends ${TREE_DEPTH} levels at a time (at most ${int(TREE_LIMIT)} spans per request): ` +
      'expand a span marked ▸ with a count to load its children. The filter, the error count and the critical path only see loaded spans.' +
      (tree.reason ? ` Server: ${tree.reason}.` : ''));
  }

  async function expandTree(i) {
    const s = model.spans[i];
    ctx.busy(el, true);
    try {
      const ans = await ctx.api(`/api/v1/traces/${encodeURIComponent(id)}/tree`, { parent: s.id, depth: TREE_DEPTH, limit: TREE_LIMIT });
      model = mergeTree(model, model.traceID, treeSpans(ans));
      fixTreeBounds();
      tree.reason = ans.reason || '';
      renderTreeCap(ctx);
      collapsed.delete(i);
      apply(ctx, true);
      startCritical(); // restates how much is loaded
    } catch (err) {
      ctx.error(errBox, err);
    } finally {
      ctx.busy(el, false);
    }
  }

  function renderHead(c) {
    const m = model;
    const root = m.spans[m.roots[0]];
    const errors = m.spans.filter(s => s.status === 'error').length;
    let maxDepth = 0;
    for (const s of m.spans) if (s.depth > maxDepth) maxDepth = s.depth;
    const spanCount = tree ? tree.spanCount : m.spans.length;
    const services = tree ? tree.services.length : m.services.length;
    const logsHref = `/logs?q=${encodeURIComponent(`trace_id:${padTraceID(m.traceID || id)}`)}&from=${Math.floor(m.start / 1000) - 60000}&to=${Math.ceil(m.end / 1000) + 60000}`;
    head.replaceChildren(
      h('p', { class: 'crumbs' }, h('a', { href: '/traces', onclick: nav('/traces') }, 'Traces'), ' / ', h('code', null, id)),
      h('h1', null, root ? `${root.service}: ${root.name}` : id),
      h('div', { class: 'tr-facts' },
        fact('Started', c.fmtTime(m.start / 1000, { ms: true })),
        fact('Duration', formatMicros(m.end - m.start)),
        fact('Spans', int(spanCount), 'tr-span-count'),
        fact('Services', int(services)),
        fact(tree ? 'Depth loaded' : 'Depth', int(maxDepth + 1)),
        fact(tree ? 'Errors in loaded spans' : 'Errors', int(errors), errors ? 'err' : ''),
        h('a', { class: 'tr-logs', href: logsHref, onclick: nav(logsHref) }, 'Logs of this trace →'),
        h('a', { class: 'muted small', href: `/api/traces/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' }, 'JSON')),
      h('p', { class: 'vg-muted vg-small', hidden: !m.orphans },
        `${int(m.orphans)} span(s) name a parent that is not in the trace; they are shown as roots.`));
  }

  function fact(label, value, cls) {
    return h('span', { class: `tr-fact ${cls || ''}` }, h('span', { class: 'muted' }, label, ' '), h('strong', null, value));
  }

  function nav(href) {
    return e => { if (e.ctrlKey || e.metaKey || e.button) return; e.preventDefault(); ctx.navigate(href); };
  }

  // apply reads the page state from the URL and redraws.
  function apply(c, force) {
    if (!model) return;
    const p = c.params;
    const text = p.get('filter') || '';
    if (document.activeElement !== filterIn) filterIn.value = text;
    hideBox.checked = p.get('hide') === '1';
    critBox.checked = p.get('crit') !== '0';
    if (force || !filter || filter.text !== text) {
      // A new hiding filter starts from everything expanded, so no match sits unseen under
      // a span collapsed earlier.
      if (filter && filter.text !== text && p.get('hide') === '1') collapsed = new Set();
      const f = parseFilter(text);
      filter = { text, f };
      match = f.empty || f.error ? null : matchAll(model, f);
      filterInfo.classList.toggle('err', !!f.error);
      filterInfo.textContent = f.error ? f.error : match ? `${int(match.count)} of ${int(model.spans.length)} ${tree ? 'loaded ' : ''}spans match` : '';
    }
    const hide = hideBox.checked && !!match;
    const { rows, keep } = visibleRows(model, collapsed, match ? match.match : null, hide);
    const hiddenCounts = new Map();
    for (const i of collapsed) hiddenCounts.set(i, descendants(model, i));
    const selId = p.get('span');
    const sel = selId != null && model.byId.has(selId) ? model.byId.get(selId) : -1;
    wf.set({
      model, rows, match: match ? match.match : null, keep, collapsed, selected: sel,
      crit, showCrit: critBox.checked, hiddenCounts,
    });
    if (hide && match && match.count === 0) filterInfo.textContent = 'no span matches: nothing to show';
    renderDetail(c, sel);
  }

  function toggle(i) {
    const s = model.spans[i];
    if (tree && s.childCount > s.children.length) { expandTree(i); return; }
    if (collapsed.has(i)) collapsed.delete(i); else collapsed.add(i);
    apply(ctx);
  }

  function select(i) {
    const s = model.spans[i];
    ctx.setParams({ span: ctx.params.get('span') === s.id ? null : s.id }, { replace: true });
    requestAnimationFrame(() => wf.scrollToSpan(i));
  }

  function expandAll() { if (!model) return; collapsed = new Set(); apply(ctx); }
  function collapseTo(depth) {
    if (!model) return;
    collapsed = new Set();
    for (const s of model.spans) if (s.depth === depth - 1 && s.children.length) collapsed.add(s.index);
    apply(ctx);
  }

  let detailFor = null;
  async function renderDetail(c, i) {
    if (i < 0) { detailEl.hidden = true; detailFor = null; return; }
    const s = model.spans[i];
    if (detailFor === s) return;
    detailFor = s;
    detailEl.hidden = false;
    const close = h('button', { type: 'button', class: 'tr-close', title: 'close', onclick: () => c.setParams({ span: null }, { replace: true }) }, '×');
    if (tree && !s.tags) {
      detailEl.replaceChildren(close, h('p', { class: 'muted' }, 'Loading span…'));
      try {
        const full = await c.api(`/api/v1/traces/${encodeURIComponent(id)}/spans/${encodeURIComponent(s.id)}`);
        if (detailFor !== s) return;
        detailEl.replaceChildren(close, spanDetails(c, model, s, full, padTraceID(id)));
      } catch (err) {
        const box = h('div');
        c.error(box, err);
        detailEl.replaceChildren(close, box);
      }
      return;
    }
    detailEl.replaceChildren(close, spanDetails(c, model, s, null, padTraceID(id)));
  }

  // startCritical computes the critical path of the main root in a worker; the page stays
  // interactive and says what happened.
  function startCritical() {
    crit = null;
    worker?.terminate();
    worker = null;
    if (!model || !model.spans.length) { critInfo.textContent = ''; return; }
    if (tree) {
      critInfo.textContent = `Critical path not computed: only ${int(model.spans.length)} of ${int(tree.spanCount)} spans are loaded.`;
      return;
    }
    const n = model.spans.length;
    let root = model.roots[0];
    for (const r of model.roots) if (model.spans[r].duration > model.spans[root].duration) root = r;
    const starts = new Float64Array(n), ends = new Float64Array(n), parents = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = model.spans[i];
      starts[i] = s.start; ends[i] = s.end; parents[i] = s.parent;
    }
    critInfo.textContent = 'Computing the critical path…';
    const others = model.roots.length - 1;
    try {
      worker = new Worker(new URL('../lib/trace-critical-worker.js', import.meta.url), { type: 'module' });
    } catch (err) {
      critInfo.textContent = `Critical path unavailable: this browser cannot start a Web Worker (${err.message}).`;
      return;
    }
    const w = worker;
    const timer = setTimeout(() => {
      if (worker !== w) return;
      w.terminate();
      worker = null;
      critInfo.textContent = 'Critical path not computed: the worker gave no answer within 20 s.';
    }, 20000);
    w.onerror = e => {
      clearTimeout(timer);
      e.preventDefault();
      critInfo.textContent = `Critical path unavailable: the worker failed (${e.message || 'could not load'}).`;
    };
    w.onmessage = e => {
      clearTimeout(timer);
      w.terminate();
      if (worker !== w) return;
      worker = null;
      if (e.data.error) { critInfo.textContent = `Critical path unavailable: ${e.data.error}`; return; }
      const segs = e.data.segments;
      const map = new Map();
      let onPath = 0;
      for (let k = 0; k < segs.length; k += 3) {
        const i = segs[k];
        if (!map.has(i)) { map.set(i, []); onPath++; }
        map.get(i).push([segs[k + 1], segs[k + 2]]);
      }
      crit = map;
      critInfo.textContent = `Critical path: ${int(onPath)} span${onPath === 1 ? '' : 's'}` +
        (others > 0 ? ` (from the longest root; ${others} other root${others === 1 ? '' : 's'} not included)` : '') + '.';
      critInfo.dataset.done = '1';
      apply(ctx, false);
    };
    w.postMessage({ id: seq, starts, ends, parents, root }, [starts.buffer, ends.buffer, parents.buffer]);
  }

  if (id) await load(ctx);
  else ctx.error(errBox, new Error('No trace id in the address: open a trace from the Traces search.'));

  return {
    update(c) {
      ctx = c;
      const next = c.path[0] || '';
      if (next !== id) {
        id = next;
        detailFor = null;
        model = null;
        load(c);
        return;
      }
      if (!model && id) { load(c); return; } // not found earlier: a refresh tries again
      apply(c, false);
    },
    unmount() {
      ctl?.abort();
      worker?.terminate();
      wf.destroy();
    },
  };
}
