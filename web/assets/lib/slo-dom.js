// Small DOM helpers shared by the PAGES modules (SLOs, traces, alerts): stylesheet loading,
// theme colours from the shell's CSS variables, and the Prometheus answer envelope.

// h is the shell's element builder (lib/dom.js), re-exported so the PAGES modules import
// their helpers from one place.
export { h } from './dom.js';
import { h } from './dom.js';

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
