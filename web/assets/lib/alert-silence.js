// The silence editor: matchers (pre-filled from an alert, a group or the page's filter), a
// duration starting now, author and comment, and a live preview of the active alerts the
// silence will match (Alertmanager's own matching, through GET /api/v2/alerts?filter=...)
// before it is saved with POST /api/v2/silences.
import { h } from './slo-dom.js';
import { formatMatcher } from './alert-model.js';

const PREVIEW_MAX = 50; // alerts listed in the preview; the count is always exact

// openSilenceDialog shows the editor over the page. init: {matchers, comment, duration}.
// onSaved(silenceID) runs after a successful save.
export function openSilenceDialog(ctx, init, onSaved) {
  const rowsEl = h('div', { class: 'al-matchers' });
  const durIn = h('input', { class: 'vg-input', value: init.duration || '2h', 'aria-label': 'duration', style: { width: '8em' } });
  const endsInfo = h('span', { class: 'vg-muted vg-small' });
  const byIn = h('input', { class: 'vg-input', value: localStorage.getItem('vigil.silence.by') || '', placeholder: 'your name', 'aria-label': 'created by' });
  const commentIn = h('textarea', { class: 'vg-input', rows: 2, placeholder: 'why (required)', 'aria-label': 'comment' }, init.comment || '');
  const previewEl = h('div', { class: 'al-preview' });
  const errBox = h('div');
  const saveBtn = h('button', { class: 'vg-btn vg-primary', type: 'submit' }, 'Create silence');
  const cancelBtn = h('button', { class: 'vg-btn', type: 'button', onclick: () => close() }, 'Cancel');
  let matchers = (init.matchers || []).map(m => ({ ...m }));
  if (!matchers.length) matchers.push({ name: 'alertname', value: '', isRegex: false, isEqual: true });

  const form = h('form', { class: 'al-silence-form' },
    h('h2', null, 'New silence'),
    h('p', { class: 'vg-muted vg-small' }, 'Alerts whose labels satisfy every matcher are silenced. Remove a matcher to widen the silence.'),
    rowsEl,
    h('button', { class: 'vg-btn', type: 'button', onclick: () => { matchers.push({ name: '', value: '', isRegex: false, isEqual: true }); drawRows(); schedulePreview(); } }, '+ matcher'),
    h('div', { class: 'al-form-row' },
      h('label', null, h('span', null, 'Duration'), durIn),
      ...['1h', '2h', '8h', '1d', '7d'].map(d => h('button', { class: 'vg-btn', type: 'button', onclick: () => { durIn.value = d; showEnds(); } }, d)),
      endsInfo),
    h('label', { class: 'al-form-col' }, h('span', null, 'Created by'), byIn),
    h('label', { class: 'al-form-col' }, h('span', null, 'Comment'), commentIn),
    h('h3', null, 'Preview'), previewEl,
    errBox,
    h('div', { class: 'al-form-row' }, saveBtn, cancelBtn));
  const overlay = h('div', { class: 'vg-overlay', onclick: e => { if (e.target === overlay) close(); } },
    h('div', { class: 'vg-dialog al-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'New silence' }, form));
  const onKey = e => { if (e.key === 'Escape') close(); };
  document.addEventListener('keydown', onKey);
  document.body.append(overlay);

  let timer = 0, ctl = null;
  function close() {
    clearTimeout(timer);
    ctl?.abort();
    document.removeEventListener('keydown', onKey);
    overlay.remove();
  }

  function drawRows() {
    rowsEl.replaceChildren(...matchers.map((m, i) => {
      const op = h('select', { class: 'vg-select', 'aria-label': 'operator' },
        ['=', '!=', '=~', '!~'].map(o => h('option', { value: o }, o)));
      op.value = m.isRegex ? (m.isEqual ? '=~' : '!~') : (m.isEqual ? '=' : '!=');
      const name = h('input', { class: 'vg-input al-m-name', value: m.name, placeholder: 'label', 'aria-label': 'label name' });
      const value = h('input', { class: 'vg-input al-m-value', value: m.value, placeholder: 'value', 'aria-label': 'label value' });
      name.addEventListener('input', () => { m.name = name.value.trim(); schedulePreview(); });
      value.addEventListener('input', () => { m.value = value.value; schedulePreview(); });
      op.addEventListener('change', () => { m.isRegex = op.value.includes('~'); m.isEqual = !op.value.startsWith('!'); schedulePreview(); });
      return h('div', { class: 'al-matcher' }, name, op, value,
        h('button', { class: 'vg-btn vg-icon', type: 'button', title: 'remove this matcher', onclick: () => { matchers.splice(i, 1); drawRows(); schedulePreview(); } }, '×'));
    }));
  }

  function durationMs() {
    const m = /^(\d+(?:\.\d+)?)(m|h|d|w)$/.exec(durIn.value.trim());
    if (!m) return NaN;
    return Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[m[2]];
  }
  function showEnds() {
    const d = durationMs();
    endsInfo.textContent = isNaN(d) || d <= 0 ? 'a duration such as 30m, 2h or 1d' : `starts now, ends ${ctx.fmtTime(Date.now() + d)}`;
    endsInfo.classList.toggle('vg-err-text', isNaN(d) || d <= 0);
  }
  durIn.addEventListener('input', showEnds);

  function valid() {
    return matchers.filter(m => m.name);
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  async function preview() {
    const ms = valid();
    ctl?.abort();
    if (!ms.length) {
      previewEl.replaceChildren(h('p', { class: 'vg-err-text' }, 'A silence needs at least one matcher.'));
      return;
    }
    ctl = new AbortController();
    try {
      const alerts = await ctx.api('/api/v2/alerts', { filter: ms.map(formatMatcher), active: true, silenced: true, inhibited: true, unprocessed: true }, { signal: ctl.signal });
      const shown = alerts.slice(0, PREVIEW_MAX);
      previewEl.replaceChildren(...[
        h('p', { class: 'al-preview-count' }, alerts.length
          ? `This silence will match ${alerts.length.toLocaleString('en-US')} active alert${alerts.length === 1 ? '' : 's'}` + (alerts.length > PREVIEW_MAX ? ` (the first ${PREVIEW_MAX} are listed).` : ':')
          : 'This silence matches no active alert now; it will still hold back matching alerts that fire before it ends.'),
        shown.length ? h('ul', { class: 'al-preview-list' }, shown.map(a => h('li', null,
          h('strong', null, a.labels.alertname || '(no alertname)'), ' ',
          h('span', { class: 'vg-muted vg-small mono' }, Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ')),
          a.status?.silencedBy?.length ? h('span', { class: 'vg-badge' }, 'already silenced') : null))) : null,
      ].filter(Boolean));
    } catch (err) {
      if (err.name === 'AbortError') return;
      const box = h('div');
      ctx.error(box, err);
      previewEl.replaceChildren(box);
    }
  }

  form.addEventListener('submit', async e => {
    e.preventDefault();
    const ms = valid();
    const d = durationMs();
    const problems = [];
    if (!ms.length) problems.push('add at least one matcher');
    if (ms.some(m => m.value === '' && m.isEqual && !m.isRegex)) problems.push('a matcher with an empty value matches alerts without that label; remove it or give it a value');
    if (isNaN(d) || d <= 0) problems.push('give a duration such as 2h');
    if (!byIn.value.trim()) problems.push('say who creates it');
    if (!commentIn.value.trim()) problems.push('add a comment');
    if (problems.length) { ctx.error(errBox, new Error(`Cannot save yet: ${problems.join('; ')}.`)); return; }
    localStorage.setItem('vigil.silence.by', byIn.value.trim());
    saveBtn.disabled = true;
    const now = Date.now();
    try {
      const ans = await ctx.api('/api/v2/silences', null, {
        method: 'POST',
        body: {
          matchers: ms.map(m => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual })),
          startsAt: new Date(now).toISOString(), endsAt: new Date(now + d).toISOString(),
          createdBy: byIn.value.trim(), comment: commentIn.value.trim(),
        },
      });
      close();
      onSaved?.(ans.silenceID);
    } catch (err) {
      ctx.error(errBox, err);
      saveBtn.disabled = false;
    }
  });

  drawRows();
  showEnds();
  preview();
  (matchers[0].name ? commentIn : rowsEl.querySelector('input'))?.focus();
  return { close };
}
