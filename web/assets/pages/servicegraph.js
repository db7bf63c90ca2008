// Service graph: who calls whom over the selected range, from the Jaeger dependencies API
// (/api/dependencies), laid out left to right by call depth, with error ratios per edge from
// the service-graph metrics (traces_service_graph_request_failed_total / _request_total)
// where they exist. Click a service to search its traces.
import { h, loadCSS, colourOf } from '../lib/slo-dom.js';
import { svg } from '../lib/dom.js';
import { layoutGraph } from '../lib/trace-graph.js';
import { int, pct } from '../lib/fmt.js';

export const title = 'Service graph';

export async function mount(el, ctx) {
  loadCSS('/pages/traces.css');
  const errBox = h('div');
  const capBox = h('div');
  const summary = h('p', { class: 'vg-muted vg-small' });
  const graphEl = h('div', { class: 'sg-graph' });
  const tableEl = h('div', { class: 'vg-table-wrap' });
  const body = h('div', null, capBox, summary, graphEl, h('h2', null, 'Calls'), tableEl);
  el.append(h('div', { class: 'tr-page' }, h('h1', null, 'Service graph'), errBox, body));
  let ctl = null;

  async function load(c) {
    ctl?.abort();
    ctl = new AbortController();
    const signal = ctl.signal;
    const { start, end } = c.range();
    c.busy(body, true);
    try {
      const ans = await c.api('/api/dependencies', { endTs: Math.round(end), lookback: Math.max(1, Math.round(end - start)) }, { signal });
      const deps = ans.data || [];
      const errs = await edgeErrors(c, start, end, signal);
      c.error(errBox, null);
      c.notice(capBox, (ans.errors || []).length ? `Partial graph: ${(ans.errors).map(e => e.msg).join('; ')} — narrow the range.` : '');
      render(c, deps, errs, start, end);
    } catch (err) {
      if (err.name === 'AbortError') return;
      c.error(errBox, err);
    } finally {
      if (!signal.aborted) c.busy(body, false);
    }
  }

  // edgeErrors reads failed/total calls per client->server edge from the service-graph
  // metrics; without them (no data, or an error) the table simply has no error column values.
  async function edgeErrors(c, start, end, signal) {
    const range = `${Math.max(60, Math.round((end - start) / 1000))}s`;
    const q = m => `sum by (client, server) (increase(${m}[${range}]))`;
    try {
      const [tot, bad] = await Promise.all([
        c.api('/api/v1/query', { query: q('traces_service_graph_request_total'), time: end / 1000 }, { signal }),
        c.api('/api/v1/query', { query: q('traces_service_graph_request_failed_total'), time: end / 1000 }, { signal }),
      ]);
      const out = new Map();
      for (const r of tot.data?.result || []) out.set(`${r.metric.client}\u0000${r.metric.server}`, { total: Number(r.value[1]), failed: 0 });
      for (const r of bad.data?.result || []) {
        const e = out.get(`${r.metric.client}\u0000${r.metric.server}`);
        if (e) e.failed = Number(r.value[1]);
      }
      return out;
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      return new Map();
    }
  }

  function render(c, deps, errs, start, end) {
    const services = new Set(deps.flatMap(d => [d.parent, d.child]));
    summary.textContent = `${services.size} services and ${deps.length} caller → callee edges seen in spans from ${c.fmtTime(start)} to ${c.fmtTime(end)}. Click a service to search its traces.`;
    if (!deps.length) {
      graphEl.replaceChildren(h('div', { class: 'vg-chart-empty' }, 'No calls between services in this range: a service graph needs spans whose parent is in another service.'));
      tableEl.replaceChildren();
      return;
    }
    const g = layoutGraph(deps);
    const maxCalls = Math.max(...deps.map(d => d.callCount));
    const s = svg('svg', { class: 'sg-svg', viewBox: `0 0 ${g.width} ${g.height}`, width: g.width, height: g.height, role: 'img', 'aria-label': 'service graph' });
    s.append(svg('defs', null, svg('marker', { id: 'sg-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' },
      svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'sg-arrowhead' }))));
    for (const e of g.edges) {
      const er = errs.get(`${e.from}\u0000${e.to}`);
      const ratio = er && er.total > 0 ? er.failed / er.total : 0;
      const path = svg('path', { d: e.path, class: `sg-edge ${ratio > 0.05 ? 'bad' : ratio > 0 ? 'some' : ''}`, 'stroke-width': 1 + 3 * Math.sqrt(e.calls / maxCalls), 'marker-end': 'url(#sg-arrow)' });
      path.append(svg('title', null, document.createTextNode(`${e.from} → ${e.to}: ${int(e.calls)} calls${er ? `, ${pct(ratio)} failed` : ''}`)));
      s.append(path);
      const t = svg('text', { x: e.lx, y: e.ly, class: 'sg-edge-label', 'text-anchor': 'middle' });
      t.textContent = int(e.calls) + (ratio > 0 ? ` · ${pct(ratio, 2)} err` : '');
      s.append(t);
    }
    for (const n of g.nodes) {
      const a = svg('a', { href: `/traces?service=${encodeURIComponent(n.name)}`, class: 'sg-node' });
      a.addEventListener('click', ev => { if (ev.ctrlKey || ev.metaKey) return; ev.preventDefault(); c.navigate(`/traces?service=${encodeURIComponent(n.name)}`); });
      a.append(svg('rect', { x: n.x, y: n.y, width: n.w, height: n.h, rx: 6, class: 'sg-box' }));
      a.append(svg('rect', { x: n.x, y: n.y, width: 5, height: n.h, rx: 2, style: `fill:${colourOf(n.name)}` }));
      const t = svg('text', { x: n.x + 12, y: n.y + n.h / 2 + 4, class: 'sg-name' });
      t.textContent = n.label;
      a.append(svg('title', null, document.createTextNode(n.name)), t);
      s.append(a);
    }
    graphEl.replaceChildren(s);
    const rows = deps.slice().sort((a, b) => b.callCount - a.callCount);
    tableEl.replaceChildren(h('table', { class: 'vg-table' },
      h('thead', null, h('tr', null, h('th', null, 'Caller'), h('th', null, 'Callee'), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num', title: 'from traces_service_graph_request_failed_total' }, 'Failed'))),
      h('tbody', null, rows.map(d => {
        const er = errs.get(`${d.parent}\u0000${d.child}`);
        return h('tr', null,
          h('td', null, h('a', { href: `/traces?service=${encodeURIComponent(d.parent)}` }, d.parent)),
          h('td', null, h('a', { href: `/traces?service=${encodeURIComponent(d.child)}` }, d.child)),
          h('td', { class: 'num' }, int(d.callCount)),
          h('td', { class: `num ${er && er.failed > 0 ? 'vg-err-text' : ''}` }, er && er.total > 0 ? pct(er.failed / er.total) : '–'));
      }))));
  }

  await load(ctx);
  return { update(c) { ctx = c; load(c); }, unmount() { ctl?.abort(); } };
}
