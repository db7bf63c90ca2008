// The trace waterfall: one row per visible span (name column with the tree, timeline with the
// span's bar), virtualised so that only the rows in view (plus a margin) exist in the DOM —
// a trace of 10,000 or 100,000 spans costs the same to scroll as one of 50.
import { formatMicros } from './trace-model.js';
import { colourOf } from './slo-dom.js';

export const ROW = 24; // px; fixed, so a row's position is its index × ROW
const MARGIN = 15;     // rows rendered above and below the viewport (at least)
const CHUNK = 10;      // the rendered window starts and ends at multiples of this

const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// Waterfall renders into el. Callbacks: onToggle(spanIndex), onSelect(spanIndex).
export class Waterfall {
  constructor(el, { onToggle, onSelect }) {
    this.el = el;
    this.onToggle = onToggle;
    this.onSelect = onSelect;
    this.model = null;
    this.rows = [];
    this.match = null;   // Uint8Array or null
    this.keep = null;    // spans kept by a hiding filter
    this.collapsed = new Set();
    this.selected = -1;
    this.crit = null;    // Map span -> [[from, to], ...] or null
    this.showCrit = true;
    this.hiddenCounts = null;

    el.classList.add('wf');
    el.innerHTML = `<div class="wf-head"><div class="wf-name-h">Service and operation</div><div class="wf-ruler"></div></div>
      <div class="wf-scroll" tabindex="0" aria-label="spans"><div class="wf-spacer"><div class="wf-rows"></div></div></div>`;
    this.ruler = el.querySelector('.wf-ruler');
    this.scroller = el.querySelector('.wf-scroll');
    this.spacer = el.querySelector('.wf-spacer');
    this.rowsEl = el.querySelector('.wf-rows');
    this.frame = 0;
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.ro = new ResizeObserver(() => this.schedule());
    this.ro.observe(this.scroller);
    this.rowsEl.addEventListener('click', e => {
      const row = e.target.closest('.wf-row');
      if (!row) return;
      const i = Number(row.dataset.i);
      if (e.target.closest('.wf-toggle')) this.onToggle(i);
      else this.onSelect(i);
    });
    this.scroller.addEventListener('keydown', e => this.key(e));
  }

  // set replaces what is shown; rows is the list of visible span indexes.
  set({ model, rows, match, keep, collapsed, selected, crit, showCrit, hiddenCounts }) {
    Object.assign(this, { model, rows, match, keep, collapsed, selected, crit, showCrit, hiddenCounts });
    this.drawn = null; // what is shown changed: redraw whatever the scroll position
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.drawRuler();
    this.draw();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  drawRuler() {
    const m = this.model;
    if (!m) return;
    const total = Math.max(1, m.end - m.start);
    let html = '';
    for (let k = 0; k <= 4; k++) {
      const x = k * 25;
      html += `<span class="wf-tick" style="left:${x}%">${esc(formatMicros(total * k / 4))}</span>`;
    }
    this.ruler.innerHTML = html;
  }

  draw() {
    const m = this.model;
    if (!m) return;
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight || 600;
    // The rendered window moves in steps of CHUNK rows, so scrolling within a step costs
    // nothing: the rows already in the DOM are positioned absolutely.
    const first = Math.max(0, Math.floor((top / ROW - MARGIN) / CHUNK) * CHUNK);
    const last = Math.min(this.rows.length, Math.ceil(((top + h) / ROW + MARGIN) / CHUNK) * CHUNK);
    if (this.drawn && this.drawn.first === first && this.drawn.last === last) return;
    this.drawn = { first, last };
    const t0 = m.start, total = Math.max(1, m.end - m.start);
    let html = '';
    for (let r = first; r < last; r++) {
      const i = this.rows[r];
      const s = m.spans[i];
      const kids = s.children.length;
      const more = s.childCount !== undefined ? Math.max(0, s.childCount - kids) : 0; // tree API: not loaded yet
      const hasKids = kids > 0 || more > 0;
      const open = hasKids && !this.collapsed.has(i) && !(more > 0 && kids === 0);
      const dim = this.match && !this.match[i];
      const cls = ['wf-row'];
      if (i === this.selected) cls.push('sel');
      if (dim) cls.push('dim');
      if (this.match && this.match[i]) cls.push('match');
      if (s.status === 'error') cls.push('err');
      const depth = Math.min(s.depth, 40);
      const left = (s.start - t0) / total * 100;
      const width = Math.max(s.duration / total * 100, 0.15);
      const col = colourOf(s.service);
      let toggle = '<span class="wf-toggle-pad"></span>';
      if (hasKids) {
        const hidden = open ? '' : ` <span class="wf-count">${more > 0 && kids === 0 ? s.childCount : (this.hiddenCounts?.get(i) ?? kids)}</span>`;
        toggle = `<button class="wf-toggle" aria-expanded="${open}" title="${open ? 'collapse' : 'expand'}">${open ? '▾' : '▸'}${hidden}</button>`;
      }
      let crit = '';
      if (this.showCrit && this.crit) {
        const segs = this.crit.get(i);
        if (segs) {
          for (const [a, b] of segs) {
            crit += `<span class="wf-crit" style="left:${(a - t0) / total * 100}%;width:${Math.max((b - a) / total * 100, 0.1)}%"></span>`;
          }
        }
      }
      html += `<div class="${cls.join(' ')}" data-i="${i}" style="top:${r * ROW}px">` +
        `<div class="wf-name" style="padding-left:${depth * 12 + 4}px" title="${esc(s.service)}: ${esc(s.name)}${s.depth > 40 ? ` (depth ${s.depth})` : ''}">` +
        `${toggle}<span class="wf-svc" style="background:${col}"></span><span class="wf-svc-name">${esc(s.service)}</span> <span class="wf-op">${esc(s.name)}</span>` +
        (s.orphan ? ' <span class="wf-orphan" title="its parent span is not in this trace">orphan</span>' : '') +
        `</div><div class="wf-tl"><div class="wf-bar" style="left:${left}%;width:${width}%;background:${col}"></div>${crit}` +
        `<span class="wf-dur" style="left:${left + width}%">${esc(formatMicros(s.duration))}</span></div></div>`;
    }
    this.rowsEl.innerHTML = html;
  }

  // scrollTo brings the row of span i into view.
  scrollToSpan(i) {
    const r = this.rows.indexOf(i);
    if (r < 0) return;
    const top = r * ROW, h = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop || top + ROW > this.scroller.scrollTop + h) this.scroller.scrollTop = Math.max(0, top - h / 3);
  }

  // key moves the selection with the arrow keys and folds with left/right.
  key(e) {
    if (!this.model || !this.rows.length) return;
    const r = this.rows.indexOf(this.selected);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = Math.max(0, Math.min(this.rows.length - 1, r + (e.key === 'ArrowDown' ? 1 : -1)));
      this.onSelect(this.rows[n]);
    } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && r >= 0) {
      const s = this.model.spans[this.selected];
      const closed = this.collapsed.has(this.selected);
      if ((e.key === 'ArrowLeft') !== closed && (s.children.length || s.childCount)) { e.preventDefault(); this.onToggle(this.selected); }
    }
  }

  destroy() {
    this.ro.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}
