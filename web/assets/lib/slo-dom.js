// Small DOM helpers shared by the PAGES modules (SLOs, traces, alerts): element building,
// stylesheet loading and theme colours read from the shell's CSS variables.

// h builds an element: h('a', {href: '/x', class: 'y', onclick: fn}, 'text', child, ...).
// Attributes starting with "on" become listeners; null/false children and attrs are skipped.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of kids.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// loadCSS adds a page stylesheet once (path relative to the site root).
export function loadCSS(href) {
  if (document.querySelector(`link[data-page-css="${href}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href, dataset: { pageCss: href } }));
}

// cssVar reads a theme colour from the shell's CSS variables, with a fallback while a
// variable is missing.
export function cssVar(name, fallback = '') {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

// colourOf picks a stable theme colour (var(--c1) ... var(--c10)) for a name: each service
// keeps its colour across pages and themes.
export function colourOf(name) {
  let x = 2166136261;
  for (let i = 0; i < name.length; i++) { x ^= name.charCodeAt(i); x = Math.imul(x, 16777619); }
  return `var(--c${((x >>> 0) % 10) + 1})`;
}

// unwrap returns the data of a Prometheus-style envelope {"status":"success","data":...}
// (whether or not ctx.api already unwrapped it).
export function unwrap(ans) {
  return ans && typeof ans === 'object' && !Array.isArray(ans) && ans.status === 'success' && 'data' in ans ? ans.data : ans;
}
