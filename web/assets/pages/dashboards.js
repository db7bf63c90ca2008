// Dashboards (/dashboards, /dashboards/<name>): the list of dashboard files of
// web.dashboards_dir plus the built-in Golden signals, one dashboard with its variables in the
// URL (var-<name>=value), and an editor (edit=1) for panels (title, type, query, unit, width)
// that saves to the folder through PUT /api/v1/dashboards/<name>. /dashboards?new=1 starts a
// new one. The file format is web/dashboard.go's Dashboard.

import {h} from '../lib/dom.js';
import {loadCSS} from '../lib/slo-dom.js';
import {drawPanel} from '../lib/dash-panel.js';
import {
  PANEL_TYPES, LOG_DISPLAYS, UNITS, varKey, intervals, substitute, variableSource, blankPanel, clean,
} from '../lib/dash-model.js';
import {int} from '../lib/fmt.js';

export const title = 'Dashboards';

const NAME_RE = /^[a-z0-9_-]{1,64}$/;

export async function mount(el, ctx) {
  loadCSS('/pages/dashboards.css');
  const name = ctx.path.join('/');
  const errEl = h('div', {hidden: true});
  const body = h('div');
  el.append(errEl, body);
  let abort = null;
  let panels = []; // [{destroy}]
  let dash = null; // the dashboard as loaded: {name, file, builtin, dashboard}
  let draft = null; // the dashboard being edited
  let varValues = {}; // variable name -> choices
  let draftName = null; // the file name typed in the editor
  let redrawPanel = []; // i -> redraws panel i alone (after its query changed)

  const editing = () => ctx.params.get('edit') === '1' || (!name && ctx.params.get('new') === '1');

  function freePanels() {
    panels.forEach((p) => p.destroy());
    panels = [];
  }

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    ctx.busy(body, true);
    try {
      if (!name && !editing()) {
        draft = null;
        await drawList(signal);
      } else {
        // While editing, the draft is the page's state: a variable changed or a refresh
        // redraws it without reading the file again.
        if (!name) dash = {name: '', builtin: false, dashboard: {title: 'New dashboard', panels: [blankPanel()]}};
        else if (!editing() || !draft || !dash) dash = (await ctx.api(`/api/v1/dashboards/${encodeURIComponent(name)}`, null, {signal})).data;
        if (editing() && !draft) draft = structuredClone(dash.dashboard);
        if (!editing()) draft = null;
        await drawDashboard(signal);
      }
      ctx.error(errEl, null);
    } catch (err) {
      if (err.name === 'AbortError') return;
      ctx.error(errEl, err);
    } finally {
      if (!signal.aborted) ctx.busy(body, false);
    }
  }

  // ---- the list ----

  async function drawList(signal) {
    document.title = 'Dashboards · Vigil';
    const list = (await ctx.api('/api/v1/dashboards', null, {signal})).data || [];
    freePanels();
    body.replaceChildren(
      h('div', {class: 'svc-head'}, h('h1', null, 'Dashboards'),
        h('span', {class: 'vg-small vg-muted'}, `${list.length} dashboard${list.length === 1 ? '' : 's'}: JSON or YAML files in the dashboards folder, and the built-in Golden signals`),
        h('span', {class: 'vg-spacer'}),
        h('a', {class: 'vg-btn vg-primary', href: '/dashboards?new=1', 'data-action': 'new'}, 'New dashboard')),
      h('div', {class: 'vg-card'}, h('div', {class: 'vg-table-wrap'}, h('table', {class: 'vg-table dash-list'},
        h('thead', null, h('tr', null, h('th', null, 'Dashboard'), h('th', null, 'File'), h('th', {class: 'num'}, 'Panels'), h('th', null, ''))),
        h('tbody', null, list.map((d) => h('tr', {'data-dashboard': d.name},
          h('td', null, NAME_RE.test(d.name) ? h('a', {href: `/dashboards/${encodeURIComponent(d.name)}`}, d.title) : d.title,
            d.builtin ? h('span', {class: 'vg-badge info', style: {marginLeft: '6px'}}, 'built in') : null),
          h('td', {class: 'vg-mono vg-small'}, d.file || '–'),
          h('td', {class: 'num'}, int(d.panels)),
          h('td', null, d.error ? h('span', {class: 'vg-err-text vg-small'}, d.error) : null))))))));
  }

  // ---- one dashboard ----

  async function drawDashboard(signal) {
    const d = draft || dash.dashboard;
    document.title = `${d.title} · Dashboards · Vigil`;
    const vars = await loadVariables(d, signal);
    freePanels();
    const grid = h('div', {class: 'dash-grid'});
    const head = h('div', {class: 'svc-head'},
      editing()
        ? h('input', {class: 'vg-input dash-title-in', value: d.title, 'aria-label': 'Dashboard title',
          oninput: (e) => (draft.title = e.target.value)})
        : h('h1', null, d.title),
      dash.builtin ? h('span', {class: 'vg-badge info'}, 'built in, read-only') : null,
      dash.file ? h('span', {class: 'vg-small vg-muted vg-mono'}, dash.file) : null,
      h('span', {class: 'vg-spacer'}),
      editing() ? editTools() : viewTools());
    const varBar = h('div', {class: 'vg-toolbar dash-vars'}, d.variables && d.variables.length ? d.variables.map((v) => {
      const sel = h('select', {class: 'vg-select', 'aria-label': v.label || v.name, 'data-var': v.name,
        onchange: (e) => ctx.setParams({[varKey(v.name)]: e.target.value})},
      (varValues[v.name] || []).map((x) => h('option', {value: x}, x)));
      sel.value = vars[v.name] ?? '';
      return h('label', {class: 'vg-row vg-small'}, (v.label || v.name), sel);
    }) : null, d.description ? h('span', {class: 'vg-small vg-muted'}, d.description) : null);
    body.replaceChildren(...[head, varBar, editing() ? jsonEditor() : null, grid].filter(Boolean));
    if (!d.panels.length) grid.append(h('div', {class: 'vg-muted'}, editing() ? 'No panels: add one.' : 'This dashboard has no panels.'));
    const {start, end} = ctx.range();
    const step = Math.max(ctx.step(200), 15);
    const values = {...intervals({start, end}, step), ...vars};
    redrawPanel = [];
    const jobs = d.panels.map((p, i) => {
      const bodyEl = h('div', {class: 'dash-panel-body'});
      const titleEl = h('h3', null, p.title || '(untitled)');
      const link = h('a', {class: 'vg-small', title: 'Open the query'}, p.type === 'logs' ? 'Logs' : 'Explore');
      const card = h('section', {class: 'vg-card dash-panel', 'data-panel': i, 'data-type': p.type, style: {gridColumn: `span ${p.w || 6}`}},
        h('div', {class: 'dash-panel-head'}, titleEl, h('span', {class: 'vg-spacer'}), link),
        editing() ? panelEditor(p, i, titleEl) : null,
        bodyEl);
      grid.append(card);
      let drawn = null;
      const draw = async (sig) => {
        const query = substitute(p.query, values);
        link.href = p.type === 'logs' ? '/logs?q=' + encodeURIComponent(query) : '/explore?q=' + encodeURIComponent(query);
        const x = await drawPanel(bodyEl, {panel: p, query, ctx, range: {start, end}, step, signal: sig});
        if (drawn) drawn.destroy();
        drawn = x;
        panels.push(x);
      };
      redrawPanel[i] = () => {
        ctx.busy(bodyEl, true);
        draw(signal).catch((err) => err.name !== 'AbortError' && ctx.error(errEl, err)).finally(() => ctx.busy(bodyEl, false));
      };
      return draw(signal);
    });
    await Promise.all(jobs);
  }

  /** The selected value of every variable (URL, else its default, else its first choice). */
  async function loadVariables(d, signal) {
    const out = {};
    const {start, end} = ctx.range();
    for (const v of d.variables || []) {
      let choices = v.values ? v.values.slice() : [];
      if (v.query) {
        const src = variableSource(substitute(v.query, out));
        if (!src) throw new Error(`Variable $${v.name}: only label_values(label) and label_values(series, label) queries are supported, not ${v.query}`);
        const r = await ctx.api(`/api/v1/label/${encodeURIComponent(src.label)}/values`,
          {start: Math.floor(start / 1000), end: Math.ceil(end / 1000), 'match[]': src.match || null}, {signal});
        choices = [...new Set([...choices, ...(r.data || [])])];
      }
      const want = ctx.params.get(varKey(v.name));
      const cur = want != null ? want : v.default && choices.includes(v.default) ? v.default : choices[0] ?? '';
      if (cur && !choices.includes(cur)) choices.unshift(cur);
      varValues[v.name] = choices;
      out[v.name] = cur;
    }
    return out;
  }

  function viewTools() {
    return h('span', {class: 'vg-row'},
      h('button', {type: 'button', class: 'vg-btn', 'data-action': 'edit', onclick: () => ctx.setParams({edit: '1'})}, dash.builtin ? 'Edit a copy' : 'Edit'),
      dash.builtin ? null : h('button', {type: 'button', class: 'vg-btn', 'data-action': 'delete', onclick: remove}, 'Delete'),
      h('a', {class: 'vg-small', href: '/dashboards'}, 'All dashboards'));
  }

  function editTools() {
    if (draftName == null) draftName = dash.builtin ? '' : dash.name;
    const nameIn = h('input', {class: 'vg-input dash-name-in', value: draftName, placeholder: 'file name: my-dashboard',
      'aria-label': 'Dashboard file name', spellcheck: 'false', pattern: '[a-z0-9_-]{1,64}', oninput: (e) => (draftName = e.target.value)});
    const msg = h('span', {class: 'vg-small vg-err-text', role: 'alert'});
    const save = async () => {
      const n = nameIn.value.trim();
      if (!NAME_RE.test(n)) {
        msg.textContent = 'Name: 1 to 64 lowercase letters, digits, - and _ (it is the file name).';
        nameIn.focus();
        return;
      }
      if (n === 'golden-signals') {
        msg.textContent = 'golden-signals is the built-in dashboard; choose another name.';
        return;
      }
      msg.textContent = '';
      try {
        await ctx.api(`/api/v1/dashboards/${encodeURIComponent(n)}`, null, {method: 'PUT', body: clean(draft)});
      } catch (err) {
        ctx.error(errEl, err);
        return;
      }
      draft = null;
      draftName = null;
      const keep = {};
      for (const [k, v] of ctx.params) if (k.startsWith('var-')) keep[k] = v;
      const qs = new URLSearchParams(keep).toString();
      ctx.navigate(`/dashboards/${encodeURIComponent(n)}` + (qs ? '?' + qs : ''));
    };
    return h('span', {class: 'vg-row'}, msg, nameIn,
      h('button', {type: 'button', class: 'vg-btn', 'data-action': 'add', onclick: () => {
        draft.panels.push(blankPanel());
        redraw();
      }}, 'Add panel'),
      h('button', {type: 'button', class: 'vg-btn vg-primary', 'data-action': 'save', onclick: save}, 'Save'),
      h('button', {type: 'button', class: 'vg-btn', 'data-action': 'cancel', onclick: () => {
        draft = null;
        draftName = null;
        if (name) ctx.setParams({edit: null});
        else ctx.navigate('/dashboards');
      }}, 'Cancel'));
  }

  // Typing goes straight into the draft; a changed query or unit redraws its panel, a
  // changed type or width the whole grid.
  function panelEditor(p, i, titleEl) {
    const set = (k, how) => (e) => {
      p[k] = k === 'w' ? Number(e.target.value) || 0 : e.target.value;
      if (k === 'type' && p.type === 'logs' && !p.display) p.display = 'volume';
      if (k === 'type' && p.type !== 'logs') delete p.display;
      if (k === 'title') titleEl.textContent = p.title || '(untitled)';
      if (how === 'all') redraw();
      else if (how === 'panel') redrawPanel[i]();
    };
    const sel = (k, options, label, how = 'all') => {
      const s = h('select', {class: 'vg-select', 'aria-label': label, 'data-field': k, onchange: set(k, how)},
        options.map((o) => h('option', {value: o}, o || 'auto')));
      s.value = p[k] ?? options[0];
      return s;
    };
    const q = h('textarea', {class: 'vg-input vg-mono dash-query-in', rows: 2, 'aria-label': 'Query', 'data-field': 'query', spellcheck: 'false',
      oninput: set('query'), onchange: set('query', 'panel')});
    q.value = p.query || '';
    return h('div', {class: 'dash-editor'},
      h('div', {class: 'vg-row'},
        h('input', {class: 'vg-input', value: p.title || '', 'aria-label': 'Panel title', 'data-field': 'title', oninput: set('title')}),
        sel('type', PANEL_TYPES, 'Panel type'),
        p.type === 'logs' ? sel('display', LOG_DISPLAYS, 'Show', 'panel') : null,
        sel('unit', UNITS, 'Unit', 'panel'),
        sel('w', ['3', '4', '6', '8', '12'].includes(String(p.w || 6)) ? ['3', '4', '6', '8', '12'] : [String(p.w), '3', '4', '6', '8', '12'], 'Width (twelfths)'),
        h('span', {class: 'vg-spacer'}),
        h('button', {type: 'button', class: 'vg-btn vg-icon', title: 'Move up', disabled: i === 0, onclick: () => move(i, -1)}, '↑'),
        h('button', {type: 'button', class: 'vg-btn vg-icon', title: 'Move down', disabled: i === draft.panels.length - 1, onclick: () => move(i, 1)}, '↓'),
        h('button', {type: 'button', class: 'vg-btn', 'data-action': 'remove', onclick: () => {
          draft.panels.splice(i, 1);
          redraw();
        }}, 'Remove')),
      q,
      h('div', {class: 'vg-hint'}, p.type === 'logs'
        ? 'A log query (the Logs syntax); $variables are replaced.'
        : 'PromQL; $variables, $__rate_interval and $__range are replaced. Ctrl/⌘+Enter redraws.'));
  }

  function move(i, d) {
    const [p] = draft.panels.splice(i, 1);
    draft.panels.splice(i + d, 0, p);
    redraw();
  }

  function jsonEditor() {
    const ta = h('textarea', {class: 'vg-input vg-mono dash-json', rows: 14, spellcheck: 'false', 'aria-label': 'Dashboard JSON'});
    const msg = h('span', {class: 'vg-small vg-err-text', role: 'alert'});
    const det = h('details', {class: 'vg-card dash-json-card', ontoggle: () => {
      if (det.open) ta.value = JSON.stringify(clean(draft), null, 2);
    }},
    h('summary', null, 'Edit as JSON (variables, description, heights)'), ta,
    h('div', {class: 'vg-row'}, h('button', {type: 'button', class: 'vg-btn', onclick: () => {
      try {
        const d = JSON.parse(ta.value);
        if (!d || typeof d !== 'object' || !Array.isArray(d.panels)) throw new Error('a dashboard is an object with a "panels" list');
        draft = d;
        redraw();
      } catch (err) {
        msg.textContent = 'Not applied: ' + err.message;
      }
    }}, 'Apply JSON'), msg));
    return det;
  }

  function redraw() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    drawDashboard(signal).catch((err) => {
      if (err.name !== 'AbortError') ctx.error(errEl, err);
    });
  }

  async function remove() {
    if (!confirm(`Delete the dashboard "${dash.dashboard.title}" (${dash.file})?`)) return;
    try {
      await ctx.api(`/api/v1/dashboards/${encodeURIComponent(name)}`, null, {method: 'DELETE'});
      ctx.navigate('/dashboards');
    } catch (err) {
      ctx.error(errEl, err);
    }
  }

  el.addEventListener('vigil:run', () => {
    if (document.activeElement && document.activeElement.dataset && document.activeElement.dataset.field === 'query') {
      document.activeElement.dispatchEvent(new Event('change'));
    } else if (dash) redraw();
  });
  ctx.shortcut('e', 'Edit this dashboard', () => name && !editing() && ctx.setParams({edit: '1'}));

  await load();
  return {
    update: () => load(),
    unmount() {
      if (abort) abort.abort();
      freePanels();
    },
  };
}
