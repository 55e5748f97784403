// Views for addresses that lead nowhere and pages the user's role can't open.

import { h } from '../dom.js';
import { pageHeader } from '../ui.js';
import { t } from '../i18n.js';

export function notFoundView(root) {
  root.append(pageHeader(t('title.not_found')),
    h('p', {}, t('errors.nothing_here'), ' ', h('a', { href: '#/' }, t('errors.start_page')), '.'));
}

export function forbiddenView(root) {
  root.append(pageHeader(t('title.no_access')),
    h('p', {}, t('errors.admins_only'), ' ', h('a', { href: '#/memories' }, t('errors.back_memories')), '.'));
}
