// PromQL autocompletion for a textarea: metric names, label names and label values from the
// Prometheus API (/api/v1/label/__name__/values, /api/v1/labels, /api/v1/label/<n>/values),
// plus PromQL's functions and keywords. Answers are cached per page.

import {h} from './dom.js';

const FUNCTIONS = [
  'abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'count_over_time', 'day_of_month', 'day_of_week', 'days_in_month', 'delta', 'deriv', 'exp', 'floor',
  'histogram_quantile', 'histogram_count', 'histogram_sum', 'histogram_fraction', 'holt_winters', 'hour', 'idelta', 'increase', 'irate',
  'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'max_over_time', 'min_over_time', 'minute',
  'month', 'predict_linear', 'present_over_time', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sgn',
  'sort', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'time', 'timestamp', 'vector', 'year',
];
const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'count_values', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile'];
const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless'];

/**
 * attachPromQLComplete(textarea, api) wires the dropdown; api is ctx.api. Returns
 * {close(), isOpen()} so the page's own key handling can defer to it.
 */
export function attachPromQLComplete(ta, api) {
  const cache = new Map();
  const get = (key, path, params) => {
    if (!cache.has(key)) {
      cache.set(key, api(path, params).then((r) => r.data || []).catch((err) => {
        cache.delete(key);
        if (err.name !== 'AbortError') console.warn('autocomplete:', err.message);
        return [];
      }));
    }
    return cache.get(key);
  };
  const box = h('div', {class: 'vg-complete', role: 'listbox', hidden: true});
  ta.parentElement.append(box);
  let items = [], sel = 0, ctxAt = null, seq = 0;

  function close() {
    box.hidden = true;
    items = [];
  }

  function contextAt() {
    const text = ta.value.slice(0, ta.selectionStart);
    // Inside a quoted label value: name op "prefix
    let m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(text);
    if (m && insideBraces(text)) {
      return {kind: 'value', label: m[1], prefix: m[3], from: text.length - m[3].length, metric: metricBefore(text)};
    }
    // At a label name inside braces, or inside by (...) / without (...)
    m = /([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(text);
    const word = m[1] || '';
    const before = text.slice(0, text.length - word.length);
    if (insideBraces(text) && /[{,]\s*$/.test(before)) {
      return {kind: 'label', prefix: word, from: before.length, metric: metricBefore(text)};
    }
    if (/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*,)?\s*$/.test(before)) {
      return {kind: 'label', prefix: word, from: before.length, metric: ''};
    }
    m = /([a-zA-Z_:][a-zA-Z0-9_:]*)$/.exec(text);
    if (m && !insideBraces(text) && !/[0-9.]$/.test(text.slice(0, text.length - m[1].length))) {
      const prev = text.slice(0, text.length - m[1].length);
      if (/\[[^\]]*$/.test(prev)) return null; // a range duration
      return {kind: 'metric', prefix: m[1], from: text.length - m[1].length};
    }
    return null;
  }

  async function update() {
    const c = contextAt();
    const my = ++seq;
    if (!c || (c.kind === 'metric' && c.prefix.length < 1)) return close();
    let cands = [];
    if (c.kind === 'metric') {
      const names = await get('__name__', '/api/v1/label/__name__/values');
      cands = [
        ...names.map((n) => ({text: n, kind: 'metric'})),
        ...FUNCTIONS.map((n) => ({text: n, kind: 'function', insert: n + '('})),
        ...AGGREGATIONS.map((n) => ({text: n, kind: 'aggregation', insert: n + '('})),
        ...KEYWORDS.map((n) => ({text: n, kind: 'keyword'})),
      ];
    } else if (c.kind === 'label') {
      const params = c.metric ? {'match[]': c.metric} : undefined;
      const names = await get('labels:' + c.metric, '/api/v1/labels', params);
      cands = names.filter((n) => n !== '__name__').map((n) => ({text: n, kind: 'label', insert: n + '="'}));
    } else {
      const params = c.metric ? {'match[]': c.metric} : undefined;
      const vals = await get(`values:${c.label}:${c.metric}`, `/api/v1/label/${encodeURIComponent(c.label)}/values`, params);
      cands = vals.map((v) => ({text: v, kind: 'value', insert: v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'}));
    }
    if (my !== seq || document.activeElement !== ta) return;
    const p = c.prefix.toLowerCase();
    const starts = [], contains = [];
    for (const x of cands) {
      const t = x.text.toLowerCase();
      if (t === p && c.kind === 'metric') continue;
      if (t.startsWith(p)) starts.push(x);
      else if (p && t.includes(p)) contains.push(x);
    }
    items = starts.concat(contains).slice(0, 60);
    if (!items.length) return close();
    ctxAt = c;
    sel = 0;
    render();
  }

  function render() {
    box.replaceChildren(...items.map((x, i) => h('div', {class: i === sel ? 'sel' : '', role: 'option', 'aria-selected': String(i === sel),
      onmousedown: (e) => {
        e.preventDefault();
        accept(i);
      }}, h('span', {class: 'kind'}, x.kind), x.text)));
    box.hidden = false;
    const el = box.children[sel];
    if (el) el.scrollIntoView({block: 'nearest'});
  }

  function accept(i) {
    const x = items[i];
    if (!x || !ctxAt) return;
    const end = ta.selectionStart;
    // Replace the whole word under the cursor, including what follows it.
    let after = ta.value.slice(end);
    const tail = /^[a-zA-Z0-9_:]*/.exec(after)[0];
    if (ctxAt.kind === 'value') after = after.replace(/^[^"]*"?/, '');
    else after = after.slice(tail.length);
    const ins = x.insert || x.text;
    ta.value = ta.value.slice(0, ctxAt.from) + ins + after;
    const pos = ctxAt.from + ins.length;
    ta.setSelectionRange(pos, pos);
    ta.dispatchEvent(new Event('input', {bubbles: true}));
    close();
    if (x.kind === 'label') update();
  }

  ta.addEventListener('input', () => update());
  ta.addEventListener('blur', () => setTimeout(close, 150));
  ta.addEventListener('keydown', (e) => {
    if (box.hidden) {
      if (e.key === ' ' && e.ctrlKey) {
        e.preventDefault();
        update();
      }
      return;
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      sel = (sel + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      render();
    } else if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
      e.preventDefault();
      e.stopPropagation();
      accept(sel);
    } else if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  });
  return {close, isOpen: () => !box.hidden};
}

function insideBraces(text) {
  let depth = 0, inStr = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') inStr = true;
    else if (ch === '{') depth++;
    else if (ch === '}') depth = Math.max(0, depth - 1);
  }
  return depth > 0;
}

/** The metric name just before the innermost open brace, if any. */
function metricBefore(text) {
  const i = text.lastIndexOf('{');
  if (i < 0) return '';
  const m = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(text.slice(0, i));
  return m ? m[1] : '';
}
