// The shell: routes a path to a page module, owns the URL keys every page shares (time range
// `from`/`to`, zone `tz`, auto-refresh `refresh`), the header (navigation, range picker,
// UTC/local switch, refresh, theme) and the global keyboard shortcuts. Pages get a ctx
// (see lib/ctx.js) and own everything inside their element.

import {h} from './lib/dom.js';
import {
  SHELL_KEYS, DEFAULT_FROM, DEFAULT_TO, api, fmtTime, parseTime, resolveRange, stepFor,
  notice, error, busy, zoneName,
} from './lib/ctx.js';
import * as fmt from './lib/fmt.js';

/**
 * The route table: path pattern -> page module (web/assets/pages/<page>.js). `/x/*` needs at
 * least one more segment (ctx.path holds them); `/x` also takes extra segments when no `/x/*`
 * route listed before it matched. `/` matches only itself. nav: shown in the header.
 */
export const routes = [
  {pattern: '/', page: 'home', title: 'Services', nav: true},
  {pattern: '/services/*', page: 'service', title: 'Service'},
  {pattern: '/services', page: 'home', title: 'Services'},
  {pattern: '/explore', page: 'explore', title: 'Explore', nav: true},
  {pattern: '/logs', page: 'logs', title: 'Logs', nav: true},
  {pattern: '/traces/*', page: 'trace', title: 'Trace'},
  {pattern: '/traces', page: 'traces', title: 'Traces', nav: true},
  {pattern: '/services-graph', page: 'servicegraph', title: 'Service graph', nav: true},
  {pattern: '/slos/*', page: 'slo', title: 'SLO'},
  {pattern: '/slos', page: 'slos', title: 'SLOs', nav: true},
  {pattern: '/alerts', page: 'alerts', title: 'Alerts', nav: true},
  {pattern: '/dashboards', page: 'dashboards', title: 'Dashboards', nav: 'if-built'},
  {pattern: '/incident', page: 'incident', title: 'Incident', nav: 'if-built'},
];

/** match(pathname) -> {route, rest: [decoded segments after the prefix]} or null. */
export function match(pathname) {
  const segs = pathname.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  for (const route of routes) {
    if (route.pattern === '/') {
      if (segs.length === 0) return {route, rest: []};
      continue;
    }
    const wild = route.pattern.endsWith('/*');
    const prefix = route.pattern.replace(/\/\*$/, '').split('/').filter(Boolean);
    if (segs.length < prefix.length + (wild ? 1 : 0)) continue;
    if (prefix.every((p, i) => segs[i] === p)) return {route, rest: segs.slice(prefix.length)};
  }
  return null;
}

const RANGES = [
  ['now-5m', 'Last 5 minutes'], ['now-15m', 'Last 15 minutes'], ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'], ['now-3h', 'Last 3 hours'], ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'], ['now-24h', 'Last 24 hours'], ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'], ['now-30d', 'Last 30 days'],
];
const REFRESHES = ['', '5s', '10s', '30s', '1m', '5m', '15m'];

const GLOBAL_SHORTCUTS = [
  ['Ctrl/⌘ + Enter', 'Run the query'],
  ['t ←', 'Shift the time range back by half its width'],
  ['t →', 'Shift the time range forward by half its width'],
  ['t z', 'Zoom out (double the time range)'],
  ['?', 'Show this list'],
  ['Esc', 'Close a dialog or menu'],
];

class Shell {
  constructor() {
    this.pageEl = document.getElementById('vg-page');
    this.built = new Set();
    this.current = null; // {route, rest, key, el, instance, ctx, shortcuts, listeners}
    this.seq = 0; // navigation counter: a slow module load must not mount over a newer page
    this.pendingKey = null;
    this.refreshTimer = null;
  }

  async start() {
    const [manifest, who] = await Promise.all([
      api('/pages/index.json').catch((err) => console.error('Vigil: cannot list the page modules:', err)),
      // Who is logged in, when access control is on (a 401 has already sent us to /login).
      api('/api/v1/whoami').catch(() => null),
    ]);
    if (manifest) manifest.pages.forEach((p) => this.built.add(p));
    this.who = who;
    this.buildHeader();
    this.initTheme();
    addEventListener('popstate', () => this.route());
    document.addEventListener('click', (e) => this.onLinkClick(e));
    document.addEventListener('keydown', (e) => this.onKey(e));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.refreshDue) this.refreshNow();
    });
    // A cancelled fetch is normal (a newer query replaced it); it is not an error to report.
    addEventListener('unhandledrejection', (e) => {
      if (e.reason && e.reason.name === 'AbortError') e.preventDefault();
    });
    await this.route();
  }

  // ---- URL state ----

  get url() {
    return new URL(location.href);
  }

  get tz() {
    const v = this.url.searchParams.get('tz');
    if (v === 'utc' || v === 'local') return v;
    return localStorage.getItem('vigil.tz') === 'local' ? 'local' : 'utc';
  }

  rangeKeys() {
    const p = this.url.searchParams;
    return {from: p.get('from') || DEFAULT_FROM, to: p.get('to') || DEFAULT_TO};
  }

  range() {
    const {from, to} = this.rangeKeys();
    return resolveRange(from, to, this.tz);
  }

  /** Write keys into the URL (null/'' deletes) and push or replace the history entry. */
  writeURL(obj, replace) {
    const u = this.url;
    for (const [k, v] of Object.entries(obj)) {
      u.searchParams.delete(k);
      if (v == null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => u.searchParams.append(k, x));
      else u.searchParams.set(k, v);
    }
    const href = u.pathname + u.search + u.hash;
    if (href === location.pathname + location.search + location.hash) return false;
    history[replace ? 'replaceState' : 'pushState'](null, '', href);
    return true;
  }

  /** The shell's keys as they stand, to carry across a navigation. */
  shellParams() {
    const out = {};
    const p = this.url.searchParams;
    for (const k of SHELL_KEYS) if (p.has(k)) out[k] = p.get(k);
    return out;
  }

  navigate(href, {replace = false} = {}) {
    const u = new URL(href, location.href);
    if (u.origin !== location.origin) {
      location.assign(u.href);
      return;
    }
    for (const [k, v] of Object.entries(this.shellParams())) if (!u.searchParams.has(k)) u.searchParams.set(k, v);
    history[replace ? 'replaceState' : 'pushState'](null, '', u.pathname + u.search + u.hash);
    this.route();
  }

  onLinkClick(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.external != null) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin || !match(u.pathname)) return;
    // API links (e.g. a raw JSON view) are real navigations.
    if (u.pathname.startsWith('/api/') || u.pathname.startsWith('/-/')) return;
    e.preventDefault();
    this.navigate(u.pathname + u.search + u.hash);
  }

  // ---- routing ----

  async route() {
    const m = match(location.pathname);
    const seq = ++this.seq;
    this.updateHeader(m);
    this.scheduleRefresh();
    if (!m) {
      this.unmount();
      this.pageEl.replaceChildren(h('div', {class: 'vg-empty-page'},
        h('h1', null, 'Not found'),
        h('p', null, 'No page lives at ', h('code', null, location.pathname), '. ', h('a', {href: '/'}, 'Go to the services overview'), '.')));
      document.title = 'Not found · Vigil';
      return;
    }
    const key = m.route.page + '\u0000' + m.rest.join('/');
    const cur = this.current;
    if (cur && cur.key === key && cur.instance) {
      this.callUpdate('nav');
      return;
    }
    if (this.pendingKey === key) return;
    this.unmount();
    document.title = m.route.title + ' · Vigil';
    if (!this.built.has(m.route.page)) {
      this.pageEl.replaceChildren(h('div', {class: 'vg-empty-page'},
        h('h1', null, m.route.title),
        h('p', null, 'This page is not built yet.')));
      return;
    }
    this.pendingKey = key;
    let mod;
    try {
      mod = await import(`/pages/${m.route.page}.js`);
    } catch (err) {
      if (seq === this.seq) this.pendingKey = null;
      console.error(`Vigil: page ${m.route.page} failed to load:`, err);
      if (seq === this.seq) error(this.pageEl, err);
      return;
    }
    if (seq !== this.seq) return;
    this.pendingKey = null;
    const el = h('div', {class: 'vg-page-body', 'data-page': m.route.page});
    this.pageEl.replaceChildren(el);
    const cur2 = {route: m.route, rest: m.rest, key, el, instance: null, shortcuts: [], listeners: []};
    cur2.ctx = this.makeCtx(cur2);
    this.current = cur2;
    document.title = (mod.title || m.route.title) + ' · Vigil';
    try {
      cur2.instance = (await mod.mount(el, cur2.ctx)) || {};
    } catch (err) {
      console.error(`Vigil: page ${m.route.page} failed to mount:`, err);
      error(el, err);
      return;
    }
    if (cur2.pending && this.current === cur2) {
      const reason = cur2.pending;
      cur2.pending = null;
      this.callUpdate(reason);
    }
  }

  unmount() {
    const cur = this.current;
    this.current = null;
    if (!cur) return;
    try {
      cur.instance && cur.instance.unmount && cur.instance.unmount();
    } catch (err) {
      console.error('Vigil: page unmount failed:', err);
    }
    cur.el.remove();
  }

  /** Calls the page's update(ctx) with ctx.reason set: 'nav', 'params', 'range', 'refresh'. */
  callUpdate(reason) {
    const cur = this.current;
    if (!cur) return;
    if (!cur.instance) {
      // Still mounting (its first query may take a while): deliver the change once mounted,
      // or a query typed meanwhile would be lost.
      cur.pending = cur.pending && cur.pending !== 'refresh' ? cur.pending : reason;
      return;
    }
    cur.ctx.reason = reason;
    if (reason === 'range' || reason === 'refresh') {
      for (const fn of cur.listeners) {
        try {
          fn(cur.ctx);
        } catch (err) {
          console.error(err);
        }
      }
    }
    if (cur.instance.update) {
      Promise.resolve()
        .then(() => cur.instance.update(cur.ctx))
        .catch((err) => {
          if (err && err.name === 'AbortError') return;
          console.error(`Vigil: page ${cur.route.page} update failed:`, err);
        });
    }
  }

  makeCtx(cur) {
    const shell = this;
    const ctx = {
      reason: 'mount',
      get path() {
        return cur.rest.slice();
      },
      get params() {
        const p = new URLSearchParams(location.search);
        for (const k of SHELL_KEYS) p.delete(k);
        return p;
      },
      get tz() {
        return shell.tz;
      },
      setParams(obj, {replace = false} = {}) {
        const clean = {...obj};
        for (const k of SHELL_KEYS) delete clean[k];
        if (shell.writeURL(clean, replace) && shell.current === cur) shell.callUpdate('params');
      },
      navigate: (href) => shell.navigate(href),
      range: () => shell.range(),
      rangeKeys: () => shell.rangeKeys(),
      setRange: (start, end) => shell.setRange(start, end),
      step: (points = 250) => stepFor(shell.range(), points),
      api,
      fmtTime: (ms, opts) => fmtTime(ms, shell.tz, opts),
      parseTime: (s) => parseTime(s, shell.tz),
      zoneName: () => zoneName(shell.tz),
      onRefresh(fn) {
        cur.listeners.push(fn);
      },
      shortcut(keys, description, fn) {
        cur.shortcuts.push({keys, description, fn});
      },
      notice,
      error,
      busy,
      fmt,
    };
    return ctx;
  }

  setRange(start, end) {
    start = Math.floor(start);
    end = Math.ceil(end);
    if (!(end > start)) return;
    const iso = (t) => new Date(t).toISOString();
    if (this.writeURL({from: iso(start), to: iso(end)}, false)) this.rangeChanged();
  }

  setRelative(from, to = 'now') {
    if (this.writeURL({from, to}, false)) this.rangeChanged();
  }

  rangeChanged() {
    this.renderRangeButton();
    this.callUpdate('range');
  }

  shift(dir) {
    const {start, end} = this.range();
    const half = (end - start) / 2;
    this.setRange(start + dir * half, end + dir * half);
  }

  zoomOut() {
    const {start, end} = this.range();
    const w = end - start;
    const {to} = this.rangeKeys();
    if (to === 'now') {
      this.setRelative('now-' + fmt.promDuration(w * 2));
    } else {
      this.setRange(start - w / 2, Math.min(Date.now(), end + w / 2));
    }
  }

  // ---- auto-refresh ----

  scheduleRefresh() {
    clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    const every = fmt.parseDuration(this.url.searchParams.get('refresh') || '');
    if (this.refreshSelect) this.refreshSelect.value = REFRESHES.includes(this.url.searchParams.get('refresh') || '') ? (this.url.searchParams.get('refresh') || '') : '';
    if (!(every >= 1000)) return;
    this.refreshTimer = setInterval(() => {
      if (document.hidden) {
        this.refreshDue = true; // catch up when the tab is visible again
        return;
      }
      this.refreshNow();
    }, every);
  }

  refreshNow() {
    this.refreshDue = false;
    this.renderRangeButton();
    this.callUpdate('refresh');
  }

  // ---- header ----

  buildHeader() {
    this.navEl = document.getElementById('vg-nav');
    const navRoutes = routes.filter((r) => r.nav === true || (r.nav === 'if-built' && this.built.has(r.page)));
    this.navLinks = navRoutes.map((r) => {
      const a = h('a', {href: r.pattern, class: 'vg-nav-link', 'data-page': r.page}, r.title);
      return a;
    });
    this.navEl.replaceChildren(...this.navLinks);

    const controls = document.getElementById('vg-controls');
    this.rangeBtn = h('button', {class: 'vg-btn vg-range-btn', type: 'button', 'aria-haspopup': 'dialog', title: 'Time range',
      onclick: () => this.togglePicker()});
    const back = h('button', {class: 'vg-btn vg-icon', type: 'button', title: 'Shift back (t ←)', 'aria-label': 'Shift the range back', onclick: () => this.shift(-1)}, '‹');
    const fwd = h('button', {class: 'vg-btn vg-icon', type: 'button', title: 'Shift forward (t →)', 'aria-label': 'Shift the range forward', onclick: () => this.shift(1)}, '›');
    const zoom = h('button', {class: 'vg-btn vg-icon', type: 'button', title: 'Zoom out (t z)', 'aria-label': 'Zoom out', onclick: () => this.zoomOut()}, '−');
    this.refreshSelect = h('select', {class: 'vg-select', title: 'Auto-refresh', 'aria-label': 'Auto-refresh',
      onchange: (e) => {
        this.writeURL({refresh: e.target.value || null}, true);
        this.scheduleRefresh();
      }},
    REFRESHES.map((r) => h('option', {value: r}, r ? 'every ' + r : 'no refresh')));
    const refreshBtn = h('button', {class: 'vg-btn vg-icon', type: 'button', title: 'Refresh now', 'aria-label': 'Refresh now', onclick: () => this.refreshNow()}, '⟳');
    this.tzBtn = h('div', {class: 'vg-seg', role: 'group', 'aria-label': 'Time zone'},
      h('button', {type: 'button', 'data-tz': 'utc', onclick: () => this.setTz('utc')}, 'UTC'),
      h('button', {type: 'button', 'data-tz': 'local', onclick: () => this.setTz('local')}, 'Local'));
    this.themeSelect = h('select', {class: 'vg-select', title: 'Theme', 'aria-label': 'Theme',
      onchange: (e) => this.setTheme(e.target.value)},
    h('option', {value: 'system'}, 'System theme'), h('option', {value: 'light'}, 'Light'), h('option', {value: 'dark'}, 'Dark'));
    const help = h('button', {class: 'vg-btn vg-icon', type: 'button', title: 'Keyboard shortcuts (?)', 'aria-label': 'Keyboard shortcuts', onclick: () => this.showShortcuts()}, '?');
    this.rangeWrap = h('div', {class: 'vg-range'}, back, this.rangeBtn, fwd, zoom);
    const user = this.who && this.who.authEnabled && this.who.name
      ? h('form', {method: 'post', action: '/logout', class: 'vg-row vg-user'},
        h('span', {class: 'vg-small vg-muted', title: `signed in via ${this.who.via || 'session'}; scopes: ${(this.who.scopes || []).join(', ')}`}, this.who.name),
        this.who.via === 'session' ? h('button', {type: 'submit', class: 'vg-btn'}, 'Log out') : null)
      : null;
    controls.replaceChildren(...[this.rangeWrap, h('div', {class: 'vg-range'}, this.refreshSelect, refreshBtn), this.tzBtn, this.themeSelect, help, user].filter(Boolean));
    this.scheduleRefresh();
  }

  updateHeader(m) {
    for (const a of this.navLinks) {
      const active = m && (a.dataset.page === m.route.page ||
        (m.route.page === 'service' && a.dataset.page === 'home') ||
        (m.route.page === 'trace' && a.dataset.page === 'traces') ||
        (m.route.page === 'slo' && a.dataset.page === 'slos'));
      a.classList.toggle('active', !!active);
      if (active) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
      // Carry the shared keys, so a middle-click opens the same range in a new tab.
      const u = new URL(a.getAttribute('href').split('?')[0], location.href);
      for (const [k, v] of Object.entries(this.shellParams())) u.searchParams.set(k, v);
      a.href = u.pathname + u.search;
    }
    for (const b of this.tzBtn.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.tz === this.tz));
    this.renderRangeButton();
  }

  renderRangeButton() {
    const {from, to} = this.rangeKeys();
    const preset = RANGES.find(([f]) => f === from);
    let label;
    if (to === 'now' && preset) label = preset[1];
    else if (to === 'now' && /^now-/.test(from)) label = 'Last ' + from.slice(4);
    else {
      const {start, end} = this.range();
      const sameDay = fmtTime(start, this.tz, {zone: false}).slice(0, 10) === fmtTime(end, this.tz, {zone: false}).slice(0, 10);
      label = fmtTime(start, this.tz, {zone: false}).slice(0, 16) + ' → ' +
        (sameDay ? fmtTime(end, this.tz, {date: false, zone: false}).slice(0, 5) : fmtTime(end, this.tz, {zone: false}).slice(0, 16)) +
        ' ' + zoneName(this.tz);
    }
    this.rangeBtn.textContent = label;
    const {start, end} = this.range();
    this.rangeBtn.title = `${fmtTime(start, this.tz)} to ${fmtTime(end, this.tz)}`;
  }

  setTz(tz) {
    localStorage.setItem('vigil.tz', tz);
    this.writeURL({tz}, true);
    this.updateHeader(match(location.pathname));
    if (this.picker) this.closePicker();
    this.callUpdate('range');
  }

  // ---- range picker ----

  togglePicker() {
    if (this.picker) this.closePicker();
    else this.openPicker();
  }

  closePicker() {
    if (!this.picker) return;
    this.picker.remove();
    this.picker = null;
    document.removeEventListener('pointerdown', this.pickerOutside, true);
    this.rangeBtn.setAttribute('aria-expanded', 'false');
  }

  openPicker() {
    const {from, to} = this.rangeKeys();
    const tz = this.tz;
    const show = (v) => (/^now/.test(v) ? v : fmtTime(parseTime(v, tz), tz, {zone: false}));
    const fromIn = h('input', {type: 'text', class: 'vg-input', value: show(from), 'aria-label': 'From', spellcheck: 'false'});
    const toIn = h('input', {type: 'text', class: 'vg-input', value: show(to), 'aria-label': 'To', spellcheck: 'false'});
    const msg = h('div', {class: 'vg-picker-msg', role: 'alert'});
    const apply = () => {
      const f = fromIn.value.trim(), t = toIn.value.trim();
      const now = Date.now();
      const fs = parseTime(f, tz, now), ts = parseTime(t, tz, now);
      if (isNaN(fs)) return (msg.textContent = `Cannot read "${f}": type now-6h, or a time like 2026-11-27 10:00 (${zoneName(tz)}).`);
      if (isNaN(ts)) return (msg.textContent = `Cannot read "${t}": type now, or a time like 2026-11-27 11:00 (${zoneName(tz)}).`);
      if (fs >= ts) return (msg.textContent = 'From must be before To.');
      const rel = (v) => /^now/.test(v);
      if (rel(f) && rel(t)) this.setRelative(f.replace(/\s+/g, ''), t.replace(/\s+/g, ''));
      else this.setRange(fs, ts);
      this.closePicker();
    };
    const onEnter = (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        apply();
      }
    };
    fromIn.addEventListener('keydown', onEnter);
    toIn.addEventListener('keydown', onEnter);
    this.picker = h('div', {class: 'vg-picker', role: 'dialog', 'aria-label': 'Time range'},
      h('div', {class: 'vg-picker-quick'}, RANGES.map(([f, label]) => h('button', {type: 'button', class: 'vg-picker-item' + (f === from && to === 'now' ? ' active' : ''),
        onclick: () => {
          this.setRelative(f);
          this.closePicker();
        }}, label))),
      h('div', {class: 'vg-picker-abs'},
        h('label', null, 'From', fromIn),
        h('label', null, 'To', toIn),
        h('div', {class: 'vg-hint'}, `Relative (now-6h, now) or a time in ${zoneName(tz)}: 2026-11-27 10:00:00.`),
        msg,
        h('div', {class: 'vg-row'}, h('button', {type: 'button', class: 'vg-btn vg-primary', onclick: apply}, 'Apply'),
          h('button', {type: 'button', class: 'vg-btn', onclick: () => this.closePicker()}, 'Cancel'))));
    this.rangeWrap.append(this.picker);
    this.rangeBtn.setAttribute('aria-expanded', 'true');
    this.pickerOutside = (e) => {
      if (this.picker && !this.picker.contains(e.target) && e.target !== this.rangeBtn) this.closePicker();
    };
    document.addEventListener('pointerdown', this.pickerOutside, true);
    fromIn.focus();
    fromIn.select();
  }

  // ---- theme ----

  initTheme() {
    this.media = matchMedia('(prefers-color-scheme: dark)');
    this.media.addEventListener('change', () => this.applyTheme());
    this.themeSelect.value = this.themePref();
    this.applyTheme();
  }

  themePref() {
    const v = localStorage.getItem('vigil.theme');
    return v === 'light' || v === 'dark' ? v : 'system';
  }

  setTheme(v) {
    localStorage.setItem('vigil.theme', v);
    this.applyTheme();
  }

  applyTheme() {
    const pref = this.themePref();
    const theme = pref === 'system' ? (this.media.matches ? 'dark' : 'light') : pref;
    const root = document.documentElement;
    root.dataset.themePref = pref;
    if (root.dataset.theme !== theme) {
      root.dataset.theme = theme;
      // Charts read colours from CSS variables when drawn; tell them to redraw.
      dispatchEvent(new CustomEvent('vigil:theme', {detail: {theme}}));
    }
  }

  // ---- keyboard ----

  onKey(e) {
    const cur = this.current;
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      if (cur) cur.el.dispatchEvent(new CustomEvent('vigil:run', {bubbles: false}));
      return;
    }
    if (e.key === 'Escape') {
      if (this.dialog) this.closeShortcuts();
      if (this.picker) this.closePicker();
      this.seqKey = null;
      return;
    }
    const t = e.target;
    const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const prev = this.seqKey && Date.now() - this.seqAt < 1500 ? this.seqKey : null;
    this.seqKey = null;
    if (prev === 't') {
      if (e.key === 'ArrowLeft') return e.preventDefault(), this.shift(-1);
      if (e.key === 'ArrowRight') return e.preventDefault(), this.shift(1);
      if (e.key === 'z') return e.preventDefault(), this.zoomOut();
    }
    if (cur) {
      for (const s of cur.shortcuts) {
        const parts = s.keys.split(' ');
        if ((parts.length === 1 && parts[0] === e.key) || (parts.length === 2 && prev === parts[0] && parts[1] === e.key)) {
          e.preventDefault();
          s.fn(e);
          return;
        }
      }
    }
    if (e.key === '?') {
      e.preventDefault();
      this.showShortcuts();
      return;
    }
    const starts = ['t', ...(cur ? cur.shortcuts.filter((s) => s.keys.includes(' ')).map((s) => s.keys.split(' ')[0]) : [])];
    if (starts.includes(e.key)) {
      this.seqKey = e.key;
      this.seqAt = Date.now();
    }
  }

  showShortcuts() {
    if (this.dialog) return this.closeShortcuts();
    const rows = (list) => list.map(([k, d]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, d)));
    const pageList = this.current ? this.current.shortcuts.map((s) => [s.keys, s.description]) : [];
    const close = h('button', {type: 'button', class: 'vg-btn', onclick: () => this.closeShortcuts()}, 'Close');
    this.dialog = h('div', {class: 'vg-overlay', onclick: (e) => e.target === this.dialog && this.closeShortcuts()},
      h('div', {class: 'vg-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Keyboard shortcuts'},
        h('h2', null, 'Keyboard shortcuts'),
        h('table', {class: 'vg-shortcuts'},
          h('tbody', null, rows(GLOBAL_SHORTCUTS),
            pageList.length ? [h('tr', null, h('th', {colspan: 2}, 'On this page')), rows(pageList)] : null)),
        h('div', {class: 'vg-row'}, close)));
    document.body.append(this.dialog);
    close.focus();
  }

  closeShortcuts() {
    if (this.dialog) this.dialog.remove();
    this.dialog = null;
  }
}

const shell = new Shell();
// For the browser tests and the console: the running shell.
window.vigil = shell;
shell.start();
