// The organisation's audit log (admins and owners): newest first, page by page, filtered by
// event on the page that is loaded.

import { get, getAll, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { replaceQuery } from '../router.js';
import { t } from '../i18n.js';
import {
  CursorPager, card, emptyState, field, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

const PAGE_SIZE = 25;

function shortId(id) {
  return id ? `${String(id).slice(0, 8)}…` : '—';
}

function outcomeBadge(outcome) {
  const kind = outcome === 'success' ? 'badge-success' : outcome === 'failure' ? 'badge-danger' : 'badge-warning';
  return h('span', { class: ['badge', kind] }, outcome ? t(`audit.outcome_${outcome}`) : '—');
}

function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

export async function auditView(root, { query }) {
  root.append(pageHeader(t('title.audit'), { subtitle: t('audit.subtitle') }));
  const eventFilter = field({
    label: t('audit.event'), name: 'event', type: 'select', showOptional: false,
    options: [{ value: '', label: t('audit.all_events') }],
    hint: t('audit.filter_hint'),
  });
  const filterBar = h('div', { class: 'filter-bar filter-bar-narrow', role: 'search', 'aria-label': t('audit.filter_label') }, eventFilter.wrapper);
  const errorSlot = h('div');
  const status = h('p', { class: 'list-status', 'aria-live': 'polite' });
  const table = h('div', { class: 'list-region', id: 'audit-list', tabindex: '-1' }, loading(t('audit.loading')));
  const pagerSlot = h('div');
  root.append(card(filterBar), errorSlot, status, table, pagerSlot);

  let wanted = query.get('event') || '';
  let events = [];
  const pager = new CursorPager();
  let people = new Map();
  try {
    const members = await getAll('/members', 500);
    people = new Map(members.map((m) => [m.id, m.display_name || m.email]));
  } catch (error) {
    if (error.handled) return;
  }

  function renderRows() {
    const shown = wanted ? events.filter((e) => e.event === wanted) : events;
    status.textContent = wanted
      ? t('audit.status_filtered', { n: shown.length, total: events.length, event: wanted })
      : t('audit.status', { n: events.length });
    if (!shown.length) {
      replace(table, emptyState(wanted ? t('audit.none_filtered', { event: wanted }) : t('audit.none')));
      return;
    }
    const cell = (label, ...content) => h('td', { dataset: { label: t(`audit.col_${label}`) } }, content);
    const columns = ['time', 'event', 'outcome', 'who', 'target', 'ip', 'details'];
    replace(table, h('table', { class: 'table audit-table' },
      h('caption', { class: 'visually-hidden' }, t('audit.caption')),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, t(`audit.col_${c}`))))),
      h('tbody', {}, shown.map((e) => h('tr', { dataset: { event: e.event } },
        cell('time', timeEl(e.ts)),
        cell('event', h('code', {}, e.event)),
        cell('outcome', outcomeBadge(e.outcome)),
        cell('who', e.user_id ? people.get(e.user_id) || shortId(e.user_id) : '—'),
        cell('target', e.target && e.target.type
          ? `${e.target.type} ${e.target.type === 'user' && people.has(e.target.id) ? people.get(e.target.id) : e.target.type === 'email' ? e.target.id : shortId(e.target.id)}`
          : '—'),
        cell('ip', e.ip || '—'),
        cell('details', detailsText(e.details) || '—',
          e.request_id ? h('span', { class: 'request-id muted' }, t('audit.request', { id: e.request_id })) : null))))));
  }

  function fillEventOptions() {
    const names = new Set(events.map((e) => e.event));
    if (wanted) names.add(wanted);
    const select = eventFilter.input;
    select.replaceChildren(h('option', { value: '' }, t('audit.all_events')),
      ...[...names].sort().map((n) => h('option', { value: n }, n)));
    select.value = wanted;
  }

  async function load() {
    showError(errorSlot, null);
    table.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = await get(`/audit-events${qs({ limit: PAGE_SIZE, cursor: pager.cursor })}`);
    } catch (error) {
      table.removeAttribute('aria-busy');
      replace(table);
      showError(errorSlot, error);
      return;
    }
    table.removeAttribute('aria-busy');
    pager.loaded(page.page);
    events = page.data || [];
    fillEventOptions();
    renderRows();
    replace(pagerSlot, pager.hasNext || pager.hasPrevious ? pagerNav(pager, {
      label: t('audit.pages'),
      onPrevious: () => { if (pager.back()) load(); },
      onNext: () => { if (pager.forward()) load(); },
    }) : null);
  }

  eventFilter.input.addEventListener('change', () => {
    wanted = eventFilter.input.value;
    replaceQuery('/audit', { event: wanted });
    renderRows();
  });

  await load();
}
