// The organisation's audit log (admins and owners): newest first, page by page, filtered by
// event on the page that is loaded.

import { get, getAll, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { replaceQuery } from '../router.js';
import {
  CursorPager, card, emptyState, field, loading, pageHeader, pagerNav, showError,
} from '../ui.js';

const PAGE_SIZE = 25;

function shortId(id) {
  return id ? `${String(id).slice(0, 8)}…` : '—';
}

function outcomeBadge(outcome) {
  const kind = outcome === 'success' ? 'badge-success' : outcome === 'failure' ? 'badge-danger' : 'badge-warning';
  return h('span', { class: ['badge', kind] }, outcome || '—');
}

function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

export async function auditView(root, { query }) {
  root.append(pageHeader('Audit log', { subtitle: 'Security-relevant events in your organisation, newest first.' }));
  const eventFilter = field({
    label: 'Event', name: 'event', type: 'select', showOptional: false,
    options: [{ value: '', label: 'All events' }],
    hint: 'Filters the events on this page.',
  });
  const filterBar = h('div', { class: 'filter-bar filter-bar-narrow', role: 'search', 'aria-label': 'Filter the audit log' }, eventFilter.wrapper);
  const errorSlot = h('div');
  const status = h('p', { class: 'list-status', 'aria-live': 'polite' });
  const table = h('div', { class: 'list-region', id: 'audit-list', tabindex: '-1' }, loading('Loading events…'));
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
      ? `${shown.length} of ${events.length} events on this page are “${wanted}”.`
      : `${events.length} events on this page.`;
    if (!shown.length) {
      replace(table, emptyState(wanted ? `No “${wanted}” events on this page.` : 'No events yet.'));
      return;
    }
    const cell = (label, ...content) => h('td', { dataset: { label } }, content);
    replace(table, h('table', { class: 'table audit-table' },
      h('caption', { class: 'visually-hidden' }, 'Audit events'),
      h('thead', {}, h('tr', {}, ['Time', 'Event', 'Outcome', 'Who', 'Target', 'IP address', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, shown.map((e) => h('tr', { dataset: { event: e.event } },
        cell('Time', timeEl(e.ts)),
        cell('Event', h('code', {}, e.event)),
        cell('Outcome', outcomeBadge(e.outcome)),
        cell('Who', e.user_id ? people.get(e.user_id) || shortId(e.user_id) : '—'),
        cell('Target', e.target && e.target.type
          ? `${e.target.type} ${e.target.type === 'user' && people.has(e.target.id) ? people.get(e.target.id) : e.target.type === 'email' ? e.target.id : shortId(e.target.id)}`
          : '—'),
        cell('IP address', e.ip || '—'),
        cell('Details', detailsText(e.details) || '—',
          e.request_id ? h('span', { class: 'request-id muted' }, `request ${e.request_id}`) : null))))));
  }

  function fillEventOptions() {
    const names = new Set(events.map((e) => e.event));
    if (wanted) names.add(wanted);
    const select = eventFilter.input;
    select.replaceChildren(h('option', { value: '' }, 'All events'),
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
      label: 'Audit log pages',
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
