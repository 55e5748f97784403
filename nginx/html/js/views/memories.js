// Memories: the list (newest first, keyset pages, filter by context and tag), one memory,
// and the create/edit form.

import { get, post, patch, del, qs } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { navigate, replaceQuery } from '../router.js';
import { loadContexts, contextNames } from '../contexts-store.js';
import { onSessionChange, session } from '../session.js';
import {
  busy, card, clearFormErrors, confirmDialog, CursorPager, emptyState, errorNotice, field, flashNext,
  form, loading, pageHeader, pagerNav, showError, showFormErrors,
} from '../ui.js';

const PAGE_SIZE = 10;

// The list's place survives a visit to one memory and back: same filter, same page.
const listState = { key: null, pager: new CursorPager() };

export function resetMemoryList() {
  listState.key = null;
}

// Another login on this page starts at the first page (cursors belong to one tenant anyway).
onSessionChange(() => resetMemoryList());

function tagChips(tags) {
  if (!tags || !tags.length) return null;
  return h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map((t) => h('li', { class: 'tag' }, t)));
}

function contextBadge(names, id) {
  if (!id) return null;
  return h('span', { class: 'badge badge-context' }, names.get(id) || 'Unknown context');
}

function excerpt(text, max = 180) {
  const flat = String(text || '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// --- list ----------------------------------------------------------------------------------------------

export async function listView(root, { query }) {
  const filter = { context: query.get('context') || '', tag: query.get('tag') || '' };
  const newLink = h('a', {
    class: 'btn btn-primary', id: 'new-memory',
    href: `#/memories/new${filter.context ? `?context=${encodeURIComponent(filter.context)}` : ''}`,
  }, 'New memory');
  root.append(pageHeader('Memories', { subtitle: 'Notes for your organisation, newest first.', actions: [newLink] }));

  const contextSelect = field({
    label: 'Context', name: 'context', type: 'select', showOptional: false,
    options: [{ value: '', label: 'All contexts' }],
  });
  const tagInput = field({ label: 'Tag', name: 'tag', showOptional: false, maxlength: 40, placeholder: 'any tag', spellcheck: 'false' });
  const apply = h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Apply filter');
  const clear = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Clear');
  const filterForm = form({ class: 'filter-bar', id: 'memory-filter', role: 'search', 'aria-label': 'Filter memories' },
    contextSelect.wrapper, tagInput.wrapper, h('div', { class: 'filter-actions' }, apply, clear));
  tagInput.input.value = filter.tag;

  const status = h('p', { class: 'list-status', 'aria-live': 'polite', id: 'memory-list-status' });
  const list = h('div', { class: 'list-region', id: 'memory-list' });
  const pagerSlot = h('div', { class: 'pager-slot' });
  const errorSlot = h('div');
  root.append(card(filterForm), errorSlot, status, list, pagerSlot);

  let names = new Map();
  try {
    const contexts = await loadContexts();
    names = new Map(contexts.map((c) => [c.id, c.name]));
    for (const c of contexts) contextSelect.input.append(h('option', { value: c.id }, c.name));
  } catch (error) {
    showError(errorSlot, error);
  }
  contextSelect.input.value = names.has(filter.context) ? filter.context : '';
  if (filter.context && !names.has(filter.context)) filter.context = '';
  clear.hidden = !filter.context && !filter.tag;

  const key = `${filter.context}|${filter.tag}`;
  if (listState.key !== key) {
    listState.key = key;
    listState.pager = new CursorPager();
  }
  const pager = listState.pager;

  async function load(focusAfter = null) {
    list.setAttribute('aria-busy', 'true');
    if (!list.firstChild) list.append(loading('Loading memories…'));
    showError(errorSlot, null);
    let page;
    try {
      page = await get(`/memories${qs({
        limit: PAGE_SIZE, cursor: pager.cursor, context_id: filter.context, tag: filter.tag,
      })}`);
    } catch (error) {
      list.removeAttribute('aria-busy');
      if (error.code === 'invalid_cursor' && pager.pageNumber > 1) {
        pager.reset();
        return load(focusAfter);
      }
      replace(list);
      showError(errorSlot, error);
      return undefined;
    }
    pager.loaded(page.page);
    list.removeAttribute('aria-busy');
    const items = page.data || [];
    const described = [];
    if (filter.context) described.push(`in ${names.get(filter.context)}`);
    if (filter.tag) described.push(`tagged “${filter.tag}”`);
    if (!items.length) {
      status.textContent = '';
      replace(list, emptyState(pager.pageNumber > 1
        ? 'No more memories.'
        : described.length ? `No memories ${described.join(' ')}.` : 'No memories yet. Write the first one.',
      !described.length && pager.pageNumber === 1 ? h('a', { class: 'btn btn-primary', href: '#/memories/new' }, 'New memory') : null));
    } else {
      const first = (pager.pageNumber - 1) * PAGE_SIZE + 1;
      status.textContent = `Showing ${first}–${first + items.length - 1}${described.length ? ` ${described.join(' ')}` : ''}`;
      replace(list, h('ul', { class: 'memory-list' }, items.map((m) => h('li', { class: 'memory-item', dataset: { id: m.id } },
        h('article', {},
          h('h2', { class: 'memory-title' }, h('a', { href: `#/memories/${encodeURIComponent(m.id)}` }, m.title)),
          m.content ? h('p', { class: 'memory-excerpt' }, excerpt(m.content)) : null,
          h('div', { class: 'memory-meta' },
            contextBadge(names, m.context_id),
            tagChips(m.tags),
            h('span', { class: 'muted' }, 'Updated ', timeEl(m.updated_at, true))))))));
    }
    const nav = pagerNav(pager, {
      label: 'Memory pages',
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
    filter.context = contextSelect.input.value;
    filter.tag = tagInput.input.value.trim();
    listState.key = `${filter.context}|${filter.tag}`;
    pager.reset();
    clear.hidden = !filter.context && !filter.tag;
    newLink.setAttribute('href', `#/memories/new${filter.context ? `?context=${encodeURIComponent(filter.context)}` : ''}`);
    replaceQuery('/memories', { context: filter.context, tag: filter.tag });
    load();
  });
  clear.addEventListener('click', () => {
    contextSelect.input.value = '';
    tagInput.input.value = '';
    filterForm.requestSubmit();
    contextSelect.input.focus();
  });
  list.setAttribute('tabindex', '-1');
  await load();
}

// --- one memory --------------------------------------------------------------------------------------

function notFound(root, error) {
  if (error.status === 404) {
    root.append(h('div', { class: 'notice notice-error', role: 'alert', id: 'memory-not-found' },
      h('p', { class: 'notice-title' }, 'Memory not found'),
      h('p', {}, 'It may have been deleted, or it belongs to an organisation you are not part of.')),
    h('p', {}, h('a', { href: '#/memories' }, 'Back to memories')));
    return true;
  }
  return false;
}

export async function detailView(root, { params, setTitle }) {
  const header = pageHeader('Memory');
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
    header.querySelector('h1').textContent = 'Memory not found';
    setTitle('Memory not found');
    if (!notFound(body, error)) throw error;
    return;
  }
  header.querySelector('h1').textContent = memory.title;
  setTitle(memory.title);
  const edit = h('a', { class: 'btn btn-secondary', href: `#/memories/${encodeURIComponent(memory.id)}/edit`, id: 'edit-memory' }, 'Edit');
  const remove = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-memory' }, 'Delete');
  const errorSlot = h('div');
  header.append(h('div', { class: 'page-actions' }, edit, remove));
  const mine = session.user && memory.created_by === session.user.id;
  replace(body,
    errorSlot,
    h('article', { class: 'card memory-detail' },
      h('dl', { class: 'meta-list' },
        h('div', {}, h('dt', {}, 'Context'), h('dd', {}, memory.context_id ? names.get(memory.context_id) || 'Unknown context' : 'None')),
        h('div', {}, h('dt', {}, 'Created'), h('dd', {}, timeEl(memory.created_at), mine ? ' by you' : '')),
        h('div', {}, h('dt', {}, 'Updated'), h('dd', {}, timeEl(memory.updated_at)))),
      tagChips(memory.tags),
      memory.content
        ? h('div', { class: 'memory-content', id: 'memory-content' }, memory.content)
        : h('p', { class: 'muted' }, 'No content.')),
    h('p', {}, h('a', { href: '#/memories' }, '← Back to memories')));

  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Delete this memory?',
      message: `“${memory.title}” will be deleted for everyone in your organisation. This cannot be undone.`,
      confirmLabel: 'Delete memory',
      danger: true,
    });
    if (!ok) return;
    try {
      await busy(remove, 'Deleting…', () => del(`/memories/${encodeURIComponent(memory.id)}`));
      flashNext(`Deleted “${memory.title}”.`, 'success');
      navigate('/memories');
    } catch (error) {
      showError(errorSlot, error);
    }
  });
}

// --- create and edit ------------------------------------------------------------------------------------

function parseTags(text) {
  const seen = new Set();
  return String(text || '').split(',').map((t) => t.trim()).filter((t) => {
    if (!t || seen.has(t)) return false;
    seen.add(t);
    return true;
  });
}

function memoryForm({ memory = null, contexts, defaultContext = '', onSave, submitLabel }) {
  const title = field({ label: 'Title', name: 'title', required: true, maxlength: 200, value: memory ? memory.title : '' });
  const content = field({
    label: 'Content', name: 'content', type: 'textarea', rows: 10, value: memory ? memory.content : '',
    hint: 'Plain text. Stored encrypted.',
  });
  const context = field({
    label: 'Context', name: 'context_id', type: 'select',
    options: [{ value: '', label: 'No context' }, ...contexts.map((c) => ({ value: c.id, label: c.name }))],
    value: memory ? memory.context_id || '' : defaultContext,
  });
  const tags = field({
    label: 'Tags', name: 'tags', value: memory ? (memory.tags || []).join(', ') : '',
    hint: 'Separate tags with commas, e.g. travel, ideas. Up to 20 tags of 40 characters.',
    spellcheck: 'false',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const cancel = h('a', { class: 'btn btn-quiet', href: memory ? `#/memories/${encodeURIComponent(memory.id)}` : '#/memories' }, 'Cancel');
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
    if (!values.title) {
      showFormErrors(formEl, { message: 'Please fill in the marked field.', fields: { title: 'is required' } });
      return;
    }
    try {
      await busy(submit, 'Saving…', () => onSave(values));
    } catch (error) {
      showFormErrors(formEl, error);
    }
  });
  return formEl;
}

export async function createView(root, { query }) {
  root.append(pageHeader('New memory'));
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
    submitLabel: 'Save memory',
    onSave: async (values) => {
      if (!values.context_id) delete values.context_id;
      const created = await post('/memories', values);
      resetMemoryList();
      flashNext(`Saved “${created.title}”.`, 'success');
      navigate(`/memories/${created.id}`);
    },
  })));
}

export async function editView(root, { params, setTitle }) {
  const header = pageHeader('Edit memory');
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
      header.querySelector('h1').textContent = 'Memory not found';
      setTitle('Memory not found');
    }
    if (!notFound(slot, error)) throw error;
    return;
  }
  setTitle(`Edit “${memory.title}”`);
  replace(slot, card(memoryForm({
    memory,
    contexts,
    submitLabel: 'Save changes',
    onSave: async (values) => {
      const saved = await patch(`/memories/${encodeURIComponent(memory.id)}`, values);
      flashNext(`Saved “${saved.title}”.`, 'success');
      navigate(`/memories/${saved.id}`);
    },
  })));
}
