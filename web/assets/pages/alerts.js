// Alerts: firing groups (Alertmanager /api/v2/alerts/groups) and pending rule alerts
// (/api/v1/alerts) by severity in one virtualised list, one-click acknowledgement (Vigil's
// /api/v1/alerts/groups/<id>/ack), silences (create with a preview, list, expire) and the
// notification history (/api/v1/alerts/notifications). Tabs and filter live in the URL.
import { h, loadCSS } from '../lib/slo-dom.js';
import { vlist } from '../lib/vlist.js';
import { buildRows, joinVigilGroups, parseMatchers, formatMatchers, formatMatcher, matchersFromLabels, alertState } from '../lib/alert-model.js';
import { openSilenceDialog } from '../lib/alert-silence.js';
import { int, dur } from '../lib/fmt.js';

export const title = 'Alerts';

const ROW_H = 30;
const TABS = [['alerts', 'Alerts'], ['silences', 'Silences'], ['history', 'Notification history']];

export async function mount(el, ctx) {
  loadCSS('/pages/alerts.css');
  const tabBar = h('div', { class: 'vg-seg al-tabs', role: 'tablist' });
  const errBox = h('div');
  const panes = { alerts: h('div'), silences: h('div'), history: h('div') };
  el.append(h('div', { class: 'al-page' }, h('h1', null, 'Alerts'), tabBar, errBox, panes.alerts, panes.silences, panes.history));

  // ---- alerts tab ----
  const filterIn = h('input', { class: 'vg-input al-filter', placeholder: 'filter: severity="critical" service=~"check.*"', 'aria-label': 'alert filter' });
  const mutedBox = h('input', { type: 'checkbox' });
  const pendingBox = h('input', { type: 'checkbox' });
  const filterErr = h('div');
  const counts = h('p', { class: 'vg-muted vg-small al-counts' });
  const listEl = h('div', { class: 'al-list', role: 'list' });
  panes.alerts.append(
    h('div', { class: 'vg-toolbar' }, filterIn,
      h('label', null, mutedBox, ' silenced and inhibited'),
      h('label', null, pendingBox, ' pending'),
      h('button', { class: 'vg-btn', type: 'button', title: 'create a silence from the filter\'s matchers', onclick: () => silenceFromFilter() }, 'Silence matching…')),
    filterErr, counts, listEl);
  const collapsed = new Set();
  let data = null; // {groups, pending}
  let filter = [];
  const list = vlist(listEl, { rowHeight: ROW_H, renderRow, renderDetail, key: r => r.key, overscan: 15 });

  filterIn.addEventListener('change', () => ctx.setParams({ filter: filterIn.value.trim() }));
  filterIn.addEventListener('keydown', e => { if (e.key === 'Enter') ctx.setParams({ filter: filterIn.value.trim() }); });
  ctx.shortcut('/', 'Focus the alert filter', () => filterIn.focus());
  el.addEventListener('vigil:run', () => ctx.setParams({ filter: filterIn.value.trim() }));
  mutedBox.addEventListener('change', () => ctx.setParams({ muted: mutedBox.checked ? '1' : null }, { replace: true }));
  pendingBox.addEventListener('change', () => ctx.setParams({ pending: pendingBox.checked ? null : '0' }, { replace: true }));

  function renderRow(r) {
    switch (r.kind) {
      case 'sev':
        return h('div', { class: `al-row al-sev sev-${r.severity || 'none'}` },
          h('strong', null, r.severity || 'no severity'),
          h('span', { class: 'vg-muted' }, `${int(r.firing)} firing${r.pending ? `, ${int(r.pending)} pending` : ''}`));
      case 'group': {
        const g = r.group;
        const ack = g.acknowledged;
        return h('div', { class: `al-row al-group sev-${r.severity || 'none'}` },
          h('button', { class: 'al-fold', type: 'button', 'aria-expanded': String(!r.collapsed), title: r.collapsed ? 'show the alerts' : 'hide the alerts', onclick: () => fold(r.key) }, r.collapsed ? '▸' : '▾'),
          h('span', { class: 'al-glabels mono' }, Object.keys(g.labels).length ? `{${formatMatchers(matchersFromLabels(g.labels))}}` : '(one group for everything)'),
          h('span', { class: 'vg-badge' }, `${int(r.group.alerts.length)} alert${r.group.alerts.length === 1 ? '' : 's'}`),
          h('span', { class: 'vg-muted vg-small al-recv' }, `→ ${g.receiver?.name || ''}`),
          h('span', { class: 'vg-spacer' }),
          ack ? h('span', { class: 'vg-badge ok', title: ctx.fmtTime(Date.parse(ack.at)) }, `acknowledged${ack.by ? ` by ${ack.by}` : ''} ${ctx.fmtTime(Date.parse(ack.at), { date: false })}`)
            : g.vigilID ? h('button', { class: 'vg-btn al-ack', type: 'button', title: 'acknowledge: stops escalation of this group', onclick: e => ack1(e.currentTarget, g) }, 'Acknowledge') : null,
          h('button', { class: 'vg-btn', type: 'button', onclick: () => silence(matchersFromLabels(g.labels), `group of ${g.alerts.length} alert(s)`) }, 'Silence'));
      }
      case 'alert': {
        const a = r.alert;
        const { state: st, why } = alertState(a);
        const extra = Object.entries(a.labels).filter(([k]) => k !== 'alertname' && !(k in r.group.labels));
        return h('div', { class: `al-row al-alert st-${st}` },
          h('span', { class: `vg-badge ${st === 'firing' || st === 'muted' ? 'err' : ''}`, title: why || null }, st),
          h('strong', { class: 'al-name' }, a.labels.alertname || ''),
          h('span', { class: 'al-labels mono vg-small' }, extra.map(([k, v]) => `${k}=${v}`).join(' ')),
          h('span', { class: 'al-summary' }, a.annotations?.summary || a.annotations?.description || ''),
          h('span', { class: 'vg-muted vg-small nowrap al-since' }, `since ${ctx.fmtTime(Date.parse(a.startsAt))}`),
          h('button', { class: 'vg-btn', type: 'button', onclick: () => silence(matchersFromLabels(a.labels), a.labels.alertname) }, 'Silence'));
      }
      case 'pgroup':
        return h('div', { class: `al-row al-group al-pending sev-${r.severity || 'none'}` },
          h('button', { class: 'al-fold', type: 'button', 'aria-expanded': String(!r.collapsed), onclick: () => fold(r.key) }, r.collapsed ? '▸' : '▾'),
          h('span', { class: 'vg-badge warn' }, 'pending'),
          h('strong', null, r.name),
          h('span', { class: 'vg-muted vg-small' }, `${int(r.alerts.length)} alert${r.alerts.length === 1 ? '' : 's'} waiting out their rule's "for" before firing`));
      case 'palert': {
        const a = r.alert;
        return h('div', { class: 'al-row al-alert st-pending' },
          h('span', { class: 'vg-badge warn' }, 'pending'),
          h('strong', { class: 'al-name' }, a.labels.alertname || ''),
          h('span', { class: 'al-labels mono vg-small' }, Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ')),
          h('span', { class: 'al-summary' }, a.annotations?.summary || ''),
          h('span', { class: 'vg-muted vg-small nowrap al-since' }, a.activeAt ? `active since ${ctx.fmtTime(Date.parse(a.activeAt))}` : ''),
          h('button', { class: 'vg-btn', type: 'button', onclick: () => silence(matchersFromLabels(a.labels), a.labels.alertname) }, 'Silence'));
      }
    }
    return h('div');
  }

  function renderDetail(r) {
    if (r.kind === 'sev') return h('div', { class: 'vg-muted vg-small' }, 'Alerts are grouped by the router\'s group_by labels; each group notifies its receiver.');
    if (r.kind === 'group') {
      const g = r.group;
      return h('dl', { class: 'al-kv' },
        h('dt', null, 'Receiver'), h('dd', null, g.receiver?.name || ''),
        g.escalationPolicy ? [h('dt', null, 'Escalation'), h('dd', null, g.escalationPolicy)] : null,
        h('dt', null, 'Group id'), h('dd', { class: 'mono' }, g.vigilID || '(not known to Vigil\'s group list yet)'),
        h('dt', null, 'Acknowledged'), h('dd', null, g.acknowledged ? `${ctx.fmtTime(Date.parse(g.acknowledged.at))}${g.acknowledged.by ? ` by ${g.acknowledged.by}` : ''}` : 'no'));
    }
    const a = r.alert;
    const kv = obj => Object.entries(obj || {}).map(([k, v]) => [h('dt', null, k), h('dd', { class: 'mono' }, v)]);
    return h('div', { class: 'al-detail' },
      h('h4', null, 'Labels'), h('dl', { class: 'al-kv' }, kv(a.labels)),
      Object.keys(a.annotations || {}).length ? [h('h4', null, 'Annotations'), h('dl', { class: 'al-kv' }, Object.entries(a.annotations).map(([k, v]) =>
        [h('dt', null, k), h('dd', null, /^https?:\/\/|^\//.test(v) ? h('a', { href: v }, v) : v)]))] : null,
      h('dl', { class: 'al-kv' },
        a.startsAt ? [h('dt', null, 'Started'), h('dd', null, ctx.fmtTime(Date.parse(a.startsAt)))] : null,
        a.activeAt ? [h('dt', null, 'Active since'), h('dd', null, ctx.fmtTime(Date.parse(a.activeAt)))] : null,
        a.fingerprint ? [h('dt', null, 'Fingerprint'), h('dd', { class: 'mono' }, a.fingerprint)] : null,
        a.status?.silencedBy?.length ? [h('dt', null, 'Silenced by'), h('dd', { class: 'mono' }, a.status.silencedBy.join(', '))] : null,
        a.status?.inhibitedBy?.length ? [h('dt', null, 'Inhibited by'), h('dd', { class: 'mono' }, a.status.inhibitedBy.join(', '))] : null,
        a.status?.mutedBy?.length ? [h('dt', null, 'Muted by'), h('dd', null, `time interval ${a.status.mutedBy.join(', ')} (no notifications now; it still fires)`)] : null,
        a.receivers?.length ? [h('dt', null, 'Receivers'), h('dd', null, a.receivers.map(x => x.name).join(', '))] : null),
      a.generatorURL ? h('p', null, h('a', { href: a.generatorURL }, 'Source (generator URL)')) : null);
  }

  function fold(key) {
    if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
    drawList(true);
  }

  async function ack1(btn, g) {
    btn.disabled = true;
    btn.textContent = 'Acknowledging…';
    try {
      await ctx.api(`/api/v1/alerts/groups/${encodeURIComponent(g.vigilID)}/ack`, null, { method: 'POST', body: { by: localStorage.getItem('vigil.silence.by') || '' } });
      await loadAlerts(ctx, true);
    } catch (err) {
      ctx.error(errBox, err);
      btn.disabled = false;
      btn.textContent = 'Acknowledge';
    }
  }

  function silence(matchers, what) {
    openSilenceDialog(ctx, { matchers, comment: '' }, id => {
      ctx.setParams({ tab: 'silences', silence: id });
    });
  }

  function silenceFromFilter() {
    if (!filter.length) {
      ctx.error(filterErr, new Error('Type a filter first (e.g. service="checkout"): the silence starts from its matchers.'));
      return;
    }
    silence(filter.map(m => ({ ...m })));
  }

  async function loadAlerts(c, keepScroll) {
    const muted = c.params.get('muted') === '1';
    const [groups, vigil, rules] = await Promise.all([
      c.api('/api/v2/alerts/groups', { active: true, silenced: muted, inhibited: muted }),
      c.api('/api/v1/alerts/groups'),
      c.api('/api/v1/alerts'),
    ]);
    const pending = (rules.data?.alerts || []).filter(a => a.state === 'pending');
    data = { groups: joinVigilGroups(groups, vigil), pending };
    drawList(keepScroll);
  }

  function drawList(keepScroll) {
    if (!data) return;
    const showPending = ctx.params.get('pending') !== '0';
    const { rows, firing, pending } = buildRows(data.groups, showPending ? data.pending : [], { filter, collapsed });
    const total = data.groups.reduce((n, g) => n + g.alerts.length, 0);
    counts.textContent = `${int(firing)} firing alert${firing === 1 ? '' : 's'} in ${int(rows.filter(r => r.kind === 'group').length)} group${rows.filter(r => r.kind === 'group').length === 1 ? '' : 's'}` +
      (showPending ? `, ${int(pending)} pending` : '') +
      (filter.length ? ` matching the filter (of ${int(total)} active)` : '') +
      (ctx.params.get('muted') === '1' ? '; silenced and inhibited alerts included.' : '; silenced and inhibited alerts hidden.');
    list.setItems(rows, { keepScroll });
    if (!rows.length) listEl.append(h('p', { class: 'vg-muted al-none' }, filter.length ? 'No alert matches the filter.' : 'Nothing is firing or pending.'));
  }

  // ---- silences tab ----
  const silFilter = h('input', { class: 'vg-input', placeholder: 'filter by matcher text, author or comment', 'aria-label': 'silence filter' });
  const silCounts = h('p', { class: 'vg-muted vg-small' });
  const silList = h('div', { class: 'vg-table-wrap' });
  panes.silences.append(
    h('div', { class: 'vg-toolbar' }, silFilter,
      h('button', { class: 'vg-btn vg-primary', type: 'button', onclick: () => silence([], '') }, 'New silence')),
    silCounts, silList);
  let silences = null;
  silFilter.addEventListener('input', () => drawSilences());

  async function loadSilences(c) {
    silences = await c.api('/api/v2/silences');
    drawSilences();
  }

  function drawSilences() {
    if (!silences) return;
    const q = silFilter.value.toLowerCase();
    const order = { active: 0, pending: 1, expired: 2 };
    const rows = silences.filter(s => !q || JSON.stringify([s.matchers, s.createdBy, s.comment]).toLowerCase().includes(q))
      .sort((a, b) => order[a.status.state] - order[b.status.state] || (a.status.state === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
    const n = st => silences.filter(s => s.status.state === st).length;
    silCounts.textContent = `${n('active')} active, ${n('pending')} pending, ${n('expired')} expired (Alertmanager keeps expired silences for its retention).`;
    const hl = ctx.params.get('silence');
    silList.replaceChildren(h('table', { class: 'vg-table al-silences' },
      h('thead', null, h('tr', null, h('th', null, 'State'), h('th', null, 'Matchers'), h('th', null, 'Starts'), h('th', null, 'Ends'),
        h('th', null, 'Created by'), h('th', null, 'Comment'), h('th', null, ''))),
      h('tbody', null, rows.map(s => h('tr', { class: s.id === hl ? 'al-hl' : '', dataset: { silence: s.id } },
        h('td', null, h('span', { class: `vg-badge ${s.status.state === 'active' ? 'ok' : s.status.state === 'pending' ? 'warn' : ''}` }, s.status.state)),
        h('td', { class: 'mono vg-small' }, s.matchers.map(formatMatcher).join(', ')),
        h('td', { class: 'nowrap' }, ctx.fmtTime(Date.parse(s.startsAt))),
        h('td', { class: 'nowrap' }, ctx.fmtTime(Date.parse(s.endsAt))),
        h('td', null, s.createdBy),
        h('td', null, s.comment),
        h('td', { class: 'nowrap' },
          s.status.state !== 'expired' ? h('button', { class: 'vg-btn', type: 'button', onclick: e => expire(e.currentTarget, s) }, 'Expire') : null,
          h('button', { class: 'vg-btn', type: 'button', title: 'a new silence with the same matchers', onclick: () => openSilenceDialog(ctx, { matchers: s.matchers, comment: s.comment }, id => ctx.setParams({ tab: 'silences', silence: id })) }, 'Recreate')))))));
    if (!rows.length) silList.replaceChildren(h('p', { class: 'vg-muted' }, q ? 'No silence matches.' : 'No silences.'));
  }

  async function expire(btn, s) {
    btn.disabled = true;
    try {
      await ctx.api(`/api/v2/silence/${encodeURIComponent(s.id)}`, null, { method: 'DELETE' });
      await loadSilences(ctx);
    } catch (err) {
      ctx.error(errBox, err);
      btn.disabled = false;
    }
  }

  // ---- notification history tab ----
  const histCounts = h('p', { class: 'vg-muted vg-small' });
  const histList = h('div', { class: 'vg-table-wrap' });
  panes.history.append(histCounts, histList);

  async function loadHistory(c) {
    const hist = await c.api('/api/v1/alerts/notifications');
    const rows = (hist || []).slice().sort((a, b) => b.time.localeCompare(a.time));
    const failed = rows.filter(r => r.error).length;
    histCounts.textContent = `${int(rows.length)} delivery attempt${rows.length === 1 ? '' : 's'} kept in memory, newest first; ${failed} failed.`;
    histList.replaceChildren(h('table', { class: 'vg-table' },
      h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Receiver'), h('th', null, 'Integration'), h('th', null, 'Status'),
        h('th', { class: 'num' }, 'Alerts'), h('th', { class: 'num' }, 'Took'), h('th', null, 'Group'), h('th', null, 'Result'))),
      h('tbody', null, rows.map(r => h('tr', null,
        h('td', { class: 'nowrap' }, ctx.fmtTime(Date.parse(r.time))),
        h('td', null, r.receiver), h('td', null, r.integration),
        h('td', null, h('span', { class: `vg-badge ${r.status === 'firing' ? 'err' : 'ok'}` }, r.status)),
        h('td', { class: 'num' }, int(r.alerts)),
        h('td', { class: 'num' }, dur(r.durationNs / 1e6)),
        h('td', { class: 'mono vg-small' }, r.groupKey),
        h('td', { class: r.error ? 'vg-err-text' : 'vg-ok-text' }, r.error ? `${r.error}${r.willRetry ? ' (will retry)' : ''}` : 'delivered'))))));
    if (!rows.length) histList.replaceChildren(h('p', { class: 'vg-muted' }, 'No notification has been sent since Vigil started.'));
  }

  // ---- tabs, URL state and loading ----
  let ctl = 0;
  async function load(c, keepScroll) {
    const my = ++ctl;
    const tab = TABS.some(([t]) => t === c.params.get('tab')) ? c.params.get('tab') : 'alerts';
    tabBar.replaceChildren(...TABS.map(([t, label]) => h('button', {
      type: 'button', role: 'tab', 'aria-pressed': String(t === tab), 'aria-selected': String(t === tab),
      onclick: () => c.setParams({ tab: t === 'alerts' ? null : t, silence: null }),
    }, label)));
    for (const [t] of TABS) panes[t].hidden = t !== tab;
    const text = c.params.get('filter') || '';
    if (document.activeElement !== filterIn) filterIn.value = text;
    mutedBox.checked = c.params.get('muted') === '1';
    pendingBox.checked = c.params.get('pending') !== '0';
    try {
      filter = parseMatchers(text);
      c.error(filterErr, null);
    } catch (err) {
      filter = [];
      c.error(filterErr, err);
    }
    c.busy(panes[tab], true);
    try {
      if (tab === 'alerts') await loadAlerts(c, keepScroll);
      else if (tab === 'silences') await loadSilences(c);
      else await loadHistory(c);
      if (my === ctl) c.error(errBox, null);
    } catch (err) {
      if (my === ctl) c.error(errBox, err);
    } finally {
      if (my === ctl) c.busy(panes[tab], false);
    }
  }

  await load(ctx, false);
  return {
    update(c) { ctx = c; load(c, c.reason === 'refresh'); },
    unmount() { list.destroy(); },
  };
}
