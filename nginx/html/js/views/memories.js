// Memories: the list (newest first, keyset pages, search by words of the title and content,
// filter by context and tag), one memory, and the create/edit form. A first-time user (nothing
// in the organisation yet) is greeted with "Welcome" and the first things to do.

import { get, post, patch, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
import { navigate, replaceQuery } from '../router.js';
import { loadContexts, contextNames } from '../contexts-store.js';
import { isAdmin, onSessionChange, session } from '../session.js';
import {
  busy, card, clearFormErrors, confirmDialog, CursorPager, emptyState, errorNotice, field, flashNext,
  form, loading, pageHeader, pagerNav, showError, showFormErrors,
} from '../ui.js';

const PAGE_SIZE = 10;

// The list's place survives a visit to one memory and back: same search, same page.
const listState = { key: null, pager: new CursorPager() };

export function resetMemoryList() {
  listState.key = null;
}

// Another login on this page starts at the first page (cursors belong to one tenant anyway).
onSessionChange(() => resetMemoryList());

/** The tags of a memory; each one a link that filters the list by it. */
function tagChips(tags) {
  if (!tags || !tags.length) return null;
  return h('ul', { class: 'tags', 'aria-label': t('memories.tags') }, tags.map((tag) => h('li', { class: 'tag' },
    h('a', {
      class: 'tag-link', href: `#/memories${qs({ tag })}`,
      title: t('memories.filter_by_tag', { tag }),
    }, tag))));
}

function contextBadge(names, id) {
  if (!id) return null;
  return h('span', { class: 'badge badge-context' }, names.get(id) || t('memories.unknown_context'));
}

function excerpt(text, max = 180) {
  const flat = String(text || '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * "1–10 of 30", "11–20 of more than 1,000", "1–10 of at least 57", or "1–10" when the server
 * gives no total. The counts sit in the answer's `page` (total, total_is_lower_bound): a lower
 * bound of 1 000 is the list's cap; a smaller one is a search over common words counted only
 * among the newest entries of its rarest word.
 */
export function rangeText(first, last, answer) {
  const page = answer && answer.page && typeof answer.page.total === 'number' ? answer.page : answer;
  if (!page || typeof page.total !== 'number') return t('memories.range', { first, last });
  if (page.total_is_lower_bound === true) {
    const key = page.total >= 1000 ? 'memories.range_of_more' : 'memories.range_of_at_least';
    return t(key, { first, last, total: formatNumber(page.total) });
  }
  return t('memories.range_of', { first, last, total: formatNumber(page.total) });
}

/** The first-run empty state: a greeting and the first things to do. */
function welcome() {
  const actions = [
    { href: '#/contexts', text: t('welcome.context'), id: 'welcome-context' },
    { href: '#/memories/new', text: t('welcome.memory'), id: 'welcome-memory' },
    isAdmin() ? { href: '#/invitations', text: t('welcome.invite'), id: 'welcome-invite' } : null,
    session.user && !session.user.mfa_enabled ? { href: '#/security', text: t('welcome.mfa'), id: 'welcome-mfa' } : null,
  ].filter(Boolean);
  return h('section', { class: 'welcome card', id: 'welcome', 'aria-labelledby': 'welcome-title' },
    h('h2', { id: 'welcome-title' }, t('welcome.title')),
    h('p', {}, t('welcome.text', { tenant: session.tenant ? session.tenant.name : '' })),
    h('ul', { class: 'welcome-actions' }, actions.map((a) => h('li', {},
      h('a', { class: 'btn btn-secondary', href: a.href, id: a.id }, a.text)))));
}

// --- list ----------------------------------------------------------------------------------------------

export async function listView(root, { query }) {
  const filter = { q: query.get('q') || '', context: query.get('context') || '', tag: query.get('tag') || '' };
  const newLink = h('a', {
    class: 'btn btn-primary', id: 'new-memory',
    href: `#/memories/new${filter.context ? `?context=${encodeURIComponent(filter.context)}` : ''}`,
  }, t('memories.new'));
  root.append(pageHeader(t('title.memories'), { subtitle: t('memories.subtitle'), actions: [newLink] }));

  const searchInput = field({
    label: t('memories.search'), name: 'q', type: 'search', showOptional: false, maxlength: 200,
    spellcheck: 'false', hint: t('memories.search_hint'), id: 'memory-search',
  });
  const contextSelect = field({
    label: t('field.context_id'), name: 'context', type: 'select', showOptional: false,
    options: [{ value: '', label: t('memories.all_contexts') }],
  });
  const tagInput = field({ label: t('memories.tag'), name: 'tag', showOptional: false, maxlength: 40, placeholder: t('memories.any_tag'), spellcheck: 'false' });
  const apply = h('button', { type: 'submit', class: 'btn btn-secondary', id: 'memory-search-submit' }, t('memories.search_button'));
  const clear = h('button', { type: 'button', class: 'btn btn-quiet' }, t('memories.clear'));
  const filterForm = form({ class: 'filter-bar', id: 'memory-filter', role: 'search', 'aria-label': t('memories.search_label') },
    searchInput.wrapper, contextSelect.wrapper, tagInput.wrapper, h('div', { class: 'filter-actions' }, apply, clear));
  searchInput.input.value = filter.q;
  tagInput.input.value = filter.tag;

  const status = h('p', { class: 'list-status', 'aria-live': 'polite', id: 'memory-list-status' });
  const list = h('div', { class: 'list-region', id: 'memory-list' });
  const pagerSlot = h('div', { class: 'pager-slot' });
  const errorSlot = h('div');
  root.append(card(filterForm), errorSlot, status, list, pagerSlot);

  let names = new Map();
  let contextCount = null;
  try {
    const contexts = await loadContexts();
    contextCount = contexts.length;
    names = new Map(contexts.map((c) => [c.id, c.name]));
    for (const c of contexts) contextSelect.input.append(h('option', { value: c.id }, c.name));
  } catch (error) {
    showError(errorSlot, error);
  }
  contextSelect.input.value = names.has(filter.context) ? filter.context : '';
  if (filter.context && !names.has(filter.context)) filter.context = '';
  const filtered = () => Boolean(filter.q || filter.context || filter.tag);
  clear.hidden = !filtered();

  const key = `${filter.q}|${filter.context}|${filter.tag}`;
  if (listState.key !== key) {
    listState.key = key;
    listState.pager = new CursorPager();
  }
  const pager = listState.pager;

  function fetchPage() {
    if (filter.q) {
      const body = { q: filter.q, limit: PAGE_SIZE };
      if (filter.context) body.context_id = filter.context;
      if (filter.tag) body.tag = filter.tag;
      if (pager.cursor) body.cursor = pager.cursor;
      return post('/memories/search', body);
    }
    return get(`/memories${qs({
      limit: PAGE_SIZE, cursor: pager.cursor, context_id: filter.context, tag: filter.tag,
    })}`);
  }

  async function load(focusAfter = null) {
    list.setAttribute('aria-busy', 'true');
    if (!list.firstChild) list.append(loading(t('memories.loading')));
    showError(errorSlot, null);
    let page;
    try {
      page = await fetchPage();
    } catch (error) {
      list.removeAttribute('aria-busy');
      if (error.code === 'invalid_cursor' && pager.pageNumber > 1) {
        pager.reset();
        return load(focusAfter);
      }
      replace(list);
      status.textContent = '';
      showError(errorSlot, error);
      return undefined;
    }
    pager.loaded(page.page);
    list.removeAttribute('aria-busy');
    const items = page.data || page.items || [];
    const described = [];
    if (filter.q) described.push(t('memories.matching', { q: filter.q }));
    if (filter.context) described.push(t('memories.in_context', { name: names.get(filter.context) }));
    if (filter.tag) described.push(t('memories.tagged', { tag: filter.tag }));
    if (!items.length) {
      status.textContent = '';
      // First time: nothing in the organisation yet (no memory, no context).
      if (!described.length && pager.pageNumber === 1 && contextCount === 0) {
        replace(list, welcome());
      } else {
        replace(list, emptyState(pager.pageNumber > 1
          ? t('memories.no_more')
          : described.length ? t('memories.none_matching', { what: described.join(' ') }) : t('memories.none_yet'),
        !described.length && pager.pageNumber === 1 ? h('a', { class: 'btn btn-primary', href: '#/memories/new' }, t('memories.new')) : null));
      }
    } else {
      const first = (pager.pageNumber - 1) * PAGE_SIZE + 1;
      const range = rangeText(formatNumber(first), formatNumber(first + items.length - 1), page);
      status.textContent = described.length ? `${range} · ${described.join(' ')}` : range;
      replace(list, h('ul', { class: 'memory-list' }, items.map((m) => h('li', { class: 'memory-item', dataset: { id: m.id } },
        h('article', {},
          h('h2', { class: 'memory-title' }, h('a', { href: `#/memories/${encodeURIComponent(m.id)}` }, m.title)),
          m.content ? h('p', { class: 'memory-excerpt' }, excerpt(m.content)) : null,
          h('div', { class: 'memory-meta' },
            contextBadge(names, m.context_id),
            tagChips(m.tags),
            h('span', { class: 'muted' }, t('memories.updated'), ' ', timeEl(m.updated_at, true))))))));
    }
    const nav = pagerNav(pager, {
      label: t('memories.pages'),
      onPrevious: () => { if (pager.back()) load('previous'); },
      onNext: () => { if (pager.forward()) load('next'); },
    });
    replace(pagerSlot, pager.hasPrevious || pager.hasNext ? nav : null);
    if (focusAfter) {
      const wanted = nav.querySelector(focusAfter === 'next' ? '.pager-next' : '.pager-prev');
      const other = nav.querySelector(focusAfter === 'next' ? '.pager-prev' : '.pager-next');
      (wanted && !wanted.disabled ? wanted : other && !other.disabled ? other : list).focus();
    }
    return undefined;
  }

  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    filter.q = searchInput.input.value.trim();
    filter.context = contextSelect.input.value;
    filter.tag = tagInput.input.value.trim();
    listState.key = `${filter.q}|${filter.context}|${filter.tag}`;
    pager.reset();
    clear.hidden = !filtered();
    newLink.setAttribute('href', `#/memories/new${filter.context ? `?context=${encodeURIComponent(filter.context)}` : ''}`);
    replaceQuery('/memories', { q: filter.q, context: filter.context, tag: filter.tag });
    load();
  });
  clear.addEventListener('click', () => {
    searchInput.input.value = '';
    contextSelect.input.value = '';
    tagInput.input.value = '';
    filterForm.requestSubmit();
    searchInput.input.focus();
  });
  list.setAttribute('tabindex', '-1');
  await load();
}

// --- one memory --------------------------------------------------------------------------------------

function notFound(root, error) {
  if (error.status === 404) {
    root.append(h('div', { class: 'notice notice-error', role: 'alert', id: 'memory-not-found' },
      // The heading above already says "Memory not found": the notice says why, once.
      h('p', {}, t('memories.not_found_text'))),
    h('p', {}, h('a', { href: '#/memories' }, t('memories.back'))));
    return true;
  }
  return false;
}

export async function detailView(root, { params, setTitle }) {
  const header = pageHeader(t('title.memories_id'));
  root.append(header);
  const body = h('div', {}, loading());
  root.append(body);
  let memory;
  let names;
  try {
    [memory, names] = await Promise.all([
      get(`/memories/${encodeURIComponent(params.id)}`),
      contextNames().catch(() => new Map()),
    ]);
  } catch (error) {
    replace(body);
    header.querySelector('h1').textContent = t('memories.not_found');
    setTitle(t('memories.not_found'));
    if (!notFound(body, error)) throw error;
    return;
  }
  header.querySelector('h1').textContent = memory.title;
  setTitle(memory.title);
  const edit = h('a', { class: 'btn btn-secondary', href: `#/memories/${encodeURIComponent(memory.id)}/edit`, id: 'edit-memory' }, t('memories.edit'));
  const remove = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-memory' }, t('common.delete'));
  const errorSlot = h('div');
  header.append(h('div', { class: 'page-actions' }, edit, remove));
  const mine = session.user && memory.created_by === session.user.id;
  replace(body,
    errorSlot,
    h('article', { class: 'card memory-detail' },
      h('dl', { class: 'meta-list' },
        h('div', {}, h('dt', {}, t('field.context_id')), h('dd', {}, memory.context_id ? names.get(memory.context_id) || t('memories.unknown_context') : t('memories.no_context_value'))),
        h('div', {}, h('dt', {}, t('memories.created')), h('dd', {}, timeEl(memory.created_at), mine ? ` ${t('memories.by_you')}` : '')),
        h('div', {}, h('dt', {}, t('memories.updated')), h('dd', {}, timeEl(memory.updated_at)))),
      tagChips(memory.tags),
      memory.content
        ? h('div', { class: 'memory-content', id: 'memory-content' }, memory.content)
        : h('p', { class: 'muted' }, t('memories.no_content'))),
    h('p', {}, h('a', { href: '#/memories' }, `← ${t('memories.back')}`)));

  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: t('memories.delete_title'),
      message: t('memories.delete_text', { title: memory.title }),
      confirmLabel: t('memories.delete_confirm'),
      danger: true,
    });
    if (!ok) return;
    try {
      await busy(remove, t('common.deleting'), () => del(`/memories/${encodeURIComponent(memory.id)}`));
      flashNext(t('common.deleted', { name: memory.title }), 'success');
      navigate('/memories');
    } catch (error) {
      showError(errorSlot, error);
    }
  });
}

// --- create and edit ------------------------------------------------------------------------------------

function parseTags(text) {
  const seen = new Set();
  return String(text || '').split(',').map((tag) => tag.trim()).filter((tag) => {
    if (!tag || seen.has(tag)) return false;
    seen.add(tag);
    return true;
  });
}

function memoryForm({ memory = null, contexts, defaultContext = '', onSave, submitLabel }) {
  const title = field({ label: t('field.title'), name: 'title', required: true, value: memory ? memory.title : '' });
  const content = field({
    label: t('field.content'), name: 'content', type: 'textarea', rows: 10, value: memory ? memory.content : '',
    hint: t('memories.content_hint'),
  });
  const context = field({
    label: t('field.context_id'), name: 'context_id', type: 'select',
    options: [{ value: '', label: t('memories.no_context') }, ...contexts.map((c) => ({ value: c.id, label: c.name }))],
    value: memory ? memory.context_id || '' : defaultContext,
  });
  const tags = field({
    label: t('field.tags'), name: 'tags', value: memory ? (memory.tags || []).join(', ') : '',
    hint: t('memories.tags_hint', { n: 20, max: 40 }),
    spellcheck: 'false',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const cancel = h('a', { class: 'btn btn-quiet', href: memory ? `#/memories/${encodeURIComponent(memory.id)}` : '#/memories' }, t('common.cancel'));
  const formEl = form({ class: 'form', id: 'memory-form', 'aria-labelledby': 'page-title' },
    title.wrapper, content.wrapper,
    h('div', { class: 'form-row' }, context.wrapper, tags.wrapper),
    h('div', { class: 'form-actions' }, submit, cancel));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(formEl);
    const values = {
      title: title.input.value.trim(),
      content: content.input.value,
      context_id: context.input.value || null,
      tags: parseTags(tags.input.value),
    };
    const policy = await loadPolicy();
    if (!checkForm(formEl, [
      { name: 'title', value: values.title, required: true, max: rule(policy, 'memory', 'title_max_length') },
      { name: 'content', value: values.content, maxBytes: rule(policy, 'memory', 'content_max_bytes') },
      {
        name: 'tags', value: values.tags, maxItems: rule(policy, 'memory', 'max_tags'),
        itemMax: rule(policy, 'memory', 'tag_max_length'),
      },
    ])) return;
    try {
      await busy(submit, t('common.saving'), () => onSave(values));
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return formEl;
}

export async function createView(root, { query }) {
  root.append(pageHeader(t('title.memories_new')));
  const slot = h('div', {}, loading());
  root.append(slot);
  const contexts = await loadContexts().catch((error) => {
    slot.append(errorNotice(error));
    return [];
  });
  const wanted = query.get('context') || '';
  replace(slot, card(memoryForm({
    contexts,
    defaultContext: contexts.some((c) => c.id === wanted) ? wanted : '',
    submitLabel: t('memories.save'),
    onSave: async (values) => {
      if (!values.context_id) delete values.context_id;
      const created = await post('/memories', values);
      resetMemoryList();
      flashNext(t('common.saved', { name: created.title }), 'success');
      navigate(`/memories/${created.id}`);
    },
  })));
}

export async function editView(root, { params, setTitle }) {
  const header = pageHeader(t('title.memories_edit'));
  root.append(header);
  const slot = h('div', {}, loading());
  root.append(slot);
  let memory;
  let contexts;
  try {
    [memory, contexts] = await Promise.all([
      get(`/memories/${encodeURIComponent(params.id)}`),
      loadContexts().catch(() => []),
    ]);
  } catch (error) {
    replace(slot);
    if (error.status === 404) {
      header.querySelector('h1').textContent = t('memories.not_found');
      setTitle(t('memories.not_found'));
    }
    if (!notFound(slot, error)) throw error;
    return;
  }
  setTitle(t('memories.edit_title', { title: memory.title }));
  replace(slot, card(memoryForm({
    memory,
    contexts,
    submitLabel: t('common.save_changes'),
    onSave: async (values) => {
      const saved = await patch(`/memories/${encodeURIComponent(memory.id)}`, values);
      flashNext(t('common.saved', { name: saved.title }), 'success');
      navigate(`/memories/${saved.id}`);
    },
  })));
}
