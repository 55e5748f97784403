// Contexts: the groups memories live in. Create, rename, delete (a context that still holds
// memories is deleted with them only after a second, explicit confirmation).

import { post, patch, del } from '../api.js';
import { h, replace, timeEl } from '../dom.js';
import { loadContexts, invalidateContexts } from '../contexts-store.js';
import { resetMemoryList } from './memories.js';
import { t } from '../i18n.js';
import { checkForm, loadPolicy, rule } from '../policy.js';
import {
  busy, button, card, clearFormErrors, confirmDialog, emptyState, field, flash, form, loading,
  pageHeader, showError, showFormErrors,
} from '../ui.js';

export async function contextsView(root) {
  root.append(pageHeader(t('title.contexts'), { subtitle: t('contexts.subtitle') }));
  const name = field({ label: t('contexts.new_name'), name: 'name', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('contexts.add'));
  const createForm = form({ class: 'form form-inline', id: 'context-form' },
    name.wrapper, h('div', { class: 'form-actions' }, submit));
  const errorSlot = h('div');
  const list = h('div', { class: 'list-region', id: 'context-list' }, loading(t('contexts.loading')));
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
      replace(list, emptyState(t('contexts.none')));
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
          h('p', { class: 'item-meta muted' }, t('memories.created'), ' ', timeEl(c.created_at))),
        h('div', { class: 'item-actions context-actions' },
          h('a', { class: 'btn btn-quiet', href: `#/memories?context=${encodeURIComponent(c.id)}` }, t('nav.memories'), h('span', { class: 'visually-hidden' }, ` ${t('contexts.in', { name: c.name })}`)),
          button(t('contexts.rename'), { 'aria-label': t('contexts.rename_label', { name: c.name }), onclick: edit }),
          button(t('common.delete'), { variant: 'danger', 'aria-label': t('contexts.delete_label', { name: c.name }), onclick: remove })));
    };
    const edit = () => {
      const input = field({ label: t('contexts.rename_field', { name: c.name }), name: 'name', required: true, value: c.name });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'));
      const stop = () => { show(); row.querySelector('button').focus(); };
      const cancel = button(t('common.cancel'), { variant: 'quiet', onclick: stop });
      const renameForm = form({ class: 'form form-inline rename-form' }, input.wrapper, h('div', { class: 'form-actions' }, save, cancel));
      // Escape cancels the rename, as it would close a dialog.
      renameForm.addEventListener('keydown', (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          stop();
        }
      });
      renameForm.addEventListener('submit', async (event) => {
        event.preventDefault();
        clearFormErrors(renameForm);
        const value = input.input.value.trim();
        if (!checkForm(renameForm, [{ name: 'name', value, required: true, max: rule(await loadPolicy(), 'context', 'name_max_length') }])) return;
        try {
          await busy(save, t('common.saving'), () => patch(`/contexts/${encodeURIComponent(c.id)}`, { name: value }));
          flash(t('contexts.renamed', { name: value }), 'success');
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
        title: t('contexts.delete_title', { name: c.name }),
        message: t('contexts.delete_text'),
        confirmLabel: t('contexts.delete_confirm'),
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
          title: t('contexts.cascade_title', { name: c.name }),
          message: t('contexts.cascade_text'),
          confirmLabel: t('contexts.cascade_confirm'),
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
      flash(t('common.deleted', { name: c.name }), 'success');
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
    if (!checkForm(createForm, [{ name: 'name', value, required: true, max: rule(await loadPolicy(), 'context', 'name_max_length') }])) return;
    try {
      await busy(submit, t('contexts.adding'), () => post('/contexts', { name: value }));
      name.input.value = '';
      flash(t('contexts.added', { name: value }), 'success');
      await refresh();
      name.input.focus();
    } catch (error) {
      showFormErrors(createForm, error);
    }
  });

  // Opening the view asks the server (other people may have changed the contexts).
  await render({ fresh: true });
}
