// Contexts: the groups memories live in. Create, rename, delete (a context that still holds
// memories is deleted with them only after a second, explicit confirmation).

import { post, patch, del } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { loadContexts, invalidateContexts } from '../contexts-store.js';
import { resetMemoryList } from './memories.js';
import {
  busy, button, card, clearFormErrors, confirmDialog, emptyState, field, flash, form, loading,
  pageHeader, showError, showFormErrors,
} from '../ui.js';

export async function contextsView(root) {
  root.append(pageHeader('Contexts', { subtitle: 'Group memories by project, team or topic.' }));
  const name = field({ label: 'New context name', name: 'name', required: true, maxlength: 100 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add context');
  const createForm = form({ class: 'form form-inline', id: 'context-form' },
    name.wrapper, h('div', { class: 'form-actions' }, submit));
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'context-list' }, loading('Loading contexts…'));
  root.append(card(createForm), errorSlot, list);

  async function refresh() {
    invalidateContexts();
    resetMemoryList();
    await render();
  }

  async function render({ fresh = false } = {}) {
    let contexts;
    try {
      contexts = await loadContexts({ force: fresh });
    } catch (error) {
      replace(list);
      showError(errorSlot, error);
      return;
    }
    if (!contexts.length) {
      replace(list, emptyState('No contexts yet. Add one above, then file memories in it.'));
      return;
    }
    replace(list, h('ul', { class: 'item-list' }, contexts.map((c) => contextRow(c))));
  }

  function contextRow(c) {
    const row = h('li', { class: 'item', dataset: { id: c.id } });
    const show = () => {
      replace(row,
        h('div', { class: 'item-main' },
          h('p', { class: 'item-title' }, c.name),
          h('p', { class: 'item-meta muted' }, 'Created ', timeEl(c.created_at))),
        h('div', { class: 'item-actions' },
          h('a', { class: 'btn btn-quiet', href: `#/memories?context=${encodeURIComponent(c.id)}` }, 'Memories', h('span', { class: 'visually-hidden' }, ` in ${c.name}`)),
          button('Rename', { 'aria-label': `Rename ${c.name}`, onclick: edit }),
          button('Delete', { variant: 'danger', 'aria-label': `Delete ${c.name}`, onclick: remove })));
    };
    const edit = () => {
      const input = field({ label: `New name for ${c.name}`, name: 'name', required: true, maxlength: 100, value: c.name });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
      const cancel = button('Cancel', { variant: 'quiet', onclick: () => { show(); row.querySelector('button').focus(); } });
      const renameForm = form({ class: 'form form-inline rename-form' }, input.wrapper, h('div', { class: 'form-actions' }, save, cancel));
      renameForm.addEventListener('submit', async (event) => {
        event.preventDefault();
        clearFormErrors(renameForm);
        const value = input.input.value.trim();
        if (!value) {
          showFormErrors(renameForm, { message: 'Please fill in the name.', fields: { name: 'is required' } });
          return;
        }
        try {
          await busy(save, 'Saving…', () => patch(`/contexts/${encodeURIComponent(c.id)}`, { name: value }));
          flash(`Renamed to “${value}”.`, 'success');
          await refresh();
        } catch (error) {
          showFormErrors(renameForm, error);
        }
      });
      replace(row, renameForm);
      input.input.focus();
      input.input.select();
    };
    const remove = async () => {
      const ok = await confirmDialog({
        title: `Delete “${c.name}”?`,
        message: 'The context will be deleted for everyone in your organisation.',
        confirmLabel: 'Delete context',
        danger: true,
      });
      if (!ok) return;
      try {
        await del(`/contexts/${encodeURIComponent(c.id)}`);
      } catch (error) {
        if (error.status !== 409) {
          showError(errorSlot, error);
          return;
        }
        const cascade = await confirmDialog({
          title: `“${c.name}” still holds memories`,
          message: 'Delete the context together with every memory in it? This cannot be undone.',
          confirmLabel: 'Delete context and memories',
          danger: true,
        });
        if (!cascade) return;
        try {
          await del(`/contexts/${encodeURIComponent(c.id)}?cascade=true`);
        } catch (again) {
          showError(errorSlot, again);
          return;
        }
      }
      flash(`Deleted “${c.name}”.`, 'success');
      await refresh();
      document.getElementById('page-title').focus();
    };
    show();
    return row;
  }

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(createForm);
    const value = name.input.value.trim();
    if (!value) {
      showFormErrors(createForm, { message: 'Please fill in the name.', fields: { name: 'is required' } });
      return;
    }
    try {
      await busy(submit, 'Adding…', () => post('/contexts', { name: value }));
      name.input.value = '';
      flash(`Added “${value}”.`, 'success');
      await refresh();
      name.input.focus();
    } catch (error) {
      showFormErrors(createForm, error);
    }
  });

  // Opening the view asks the server (other people may have changed the contexts).
  await render({ fresh: true });
}
