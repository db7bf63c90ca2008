// A virtualised list: only the rows in view (plus a few either side) exist in the DOM, so
// 10,000 or 100,000 rows scroll as smoothly as 50. Rows have a fixed height; a row can be
// expanded to show a detail block of any height, measured once rendered.

/**
 * vlist(el, {rowHeight, renderRow, renderDetail, key, overscan}) -> {setItems, prepend,
 * items, toggle, isExpanded, refresh, scrollToTop, destroy}.
 *   el: the scroll container (give it a height, e.g. CSS flex or max-height).
 *   renderRow(item, index, {expanded, toggle}) -> Element: one line, rowHeight px tall.
 *   renderDetail(item, index) -> Element: shown under the row while it is expanded.
 *   key(item) -> a stable id, so expansion survives new rows arriving (default: the index).
 * Clicking a row's line toggles it, unless the click was on a link, button or input, or
 * selected text.
 */
export function vlist(el, {rowHeight = 24, renderRow, renderDetail, key = null, overscan = 12}) {
  el.classList.add('vl');
  const spacer = document.createElement('div');
  spacer.className = 'vl-spacer';
  el.replaceChildren(spacer);
  let items = [];
  const expanded = new Map(); // key -> measured detail height (px)
  let offsets = null; // prefix sums of row heights while any row is expanded
  const rendered = new Map(); // index -> row element
  let raf = 0;
  const keyOf = (item, i) => (key ? key(item) : i);

  function rebuildOffsets() {
    if (!expanded.size) {
      offsets = null;
      return;
    }
    offsets = new Float64Array(items.length + 1);
    for (let i = 0; i < items.length; i++) {
      const extra = expanded.get(keyOf(items[i], i));
      offsets[i + 1] = offsets[i] + rowHeight + (extra || 0);
    }
  }
  const topOf = (i) => (offsets ? offsets[i] : i * rowHeight);
  const total = () => (offsets ? offsets[items.length] : items.length * rowHeight);
  function indexAt(y) {
    if (!offsets) return Math.min(items.length - 1, Math.max(0, Math.floor(y / rowHeight)));
    let lo = 0, hi = items.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function clearRendered() {
    for (const node of rendered.values()) node.remove();
    rendered.clear();
  }

  function makeRow(i) {
    const item = items[i];
    const k = keyOf(item, i);
    const isOpen = expanded.has(k);
    const row = document.createElement('div');
    row.className = 'vl-row' + (isOpen ? ' vl-open' : '');
    row.setAttribute('role', 'listitem');
    const main = renderRow(item, i, {expanded: isOpen, toggle: () => toggle(i)});
    main.classList.add('vl-main');
    main.style.height = rowHeight + 'px';
    row.append(main);
    row._item = item;
    if (isOpen && renderDetail) {
      const detail = document.createElement('div');
      detail.className = 'vl-detail';
      detail.append(renderDetail(item, i));
      row.append(detail);
      row._detail = detail;
    }
    return row;
  }

  function render() {
    raf = 0;
    spacer.style.height = total() + 'px';
    if (!items.length) {
      clearRendered();
      return;
    }
    const top = el.scrollTop;
    const height = el.clientHeight || 600;
    const first = Math.max(0, indexAt(top) - overscan);
    const last = Math.min(items.length - 1, indexAt(top + height) + overscan);
    for (const [i, node] of rendered) {
      if (i < first || i > last || node._item !== items[i]) {
        node.remove();
        rendered.delete(i);
      }
    }
    let remeasure = false;
    for (let i = first; i <= last; i++) {
      let node = rendered.get(i);
      if (!node) {
        node = makeRow(i);
        rendered.set(i, node);
        el.append(node);
        if (node._detail) {
          const k = keyOf(items[i], i);
          const hgt = node._detail.offsetHeight;
          if (expanded.get(k) !== hgt) {
            expanded.set(k, hgt);
            remeasure = true;
          }
        }
      }
      node.style.transform = `translateY(${topOf(i)}px)`;
    }
    if (remeasure) {
      rebuildOffsets();
      for (const [i, node] of rendered) node.style.transform = `translateY(${topOf(i)}px)`;
      spacer.style.height = total() + 'px';
    }
  }

  function schedule() {
    if (!raf) raf = requestAnimationFrame(render);
  }

  function toggle(i) {
    const k = keyOf(items[i], i);
    if (expanded.has(k)) expanded.delete(k);
    else expanded.set(k, 0);
    rebuildOffsets();
    const node = rendered.get(i);
    if (node) {
      node.remove();
      rendered.delete(i);
    }
    render();
  }

  const onScroll = () => schedule();
  el.addEventListener('scroll', onScroll, {passive: true});
  const onClick = (e) => {
    const main = e.target.closest('.vl-main');
    if (!main || !el.contains(main)) return;
    if (e.target.closest('a, button, input, select, textarea, summary')) return;
    const sel = getSelection();
    if (sel && sel.toString()) return;
    for (const [i, node] of rendered) {
      if (node.contains(main)) {
        toggle(i);
        return;
      }
    }
  };
  el.addEventListener('click', onClick);
  const ro = new ResizeObserver(() => schedule());
  ro.observe(el);

  return {
    /** Replace every item; scroll back to the top unless keepScroll. */
    setItems(next, {keepScroll = false} = {}) {
      items = next;
      if (!key) expanded.clear();
      rebuildOffsets();
      clearRendered();
      if (!keepScroll) el.scrollTop = 0;
      render();
    },
    /** Add items at the top (live tail); keeps the rows in view still unless at the top. */
    prepend(newItems, {max = Infinity} = {}) {
      if (!newItems.length) return;
      const atTop = el.scrollTop < rowHeight;
      const before = total();
      items = newItems.concat(items);
      if (items.length > max) items.length = max;
      rebuildOffsets();
      clearRendered();
      if (!atTop) el.scrollTop += total() - before;
      render();
    },
    get items() {
      return items;
    },
    toggle,
    isExpanded: (i) => expanded.has(keyOf(items[i], i)),
    refresh() {
      clearRendered();
      render();
    },
    scrollToTop() {
      el.scrollTop = 0;
    },
    destroy() {
      cancelAnimationFrame(raf);
      el.removeEventListener('scroll', onScroll);
      el.removeEventListener('click', onClick);
      ro.disconnect();
      clearRendered();
    },
  };
}
