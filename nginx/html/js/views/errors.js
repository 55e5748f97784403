// Views for addresses that lead nowhere and pages the user's role can't open.

import { h } from '../dom.js';
import { pageHeader } from '../ui.js';

export function notFoundView(root) {
  root.append(pageHeader('Page not found'),
    h('p', {}, 'There is nothing at this address. ', h('a', { href: '#/' }, 'Go to the start page'), '.'));
}

export function forbiddenView(root) {
  root.append(pageHeader('No access'),
    h('p', {}, 'This page is for administrators of your organisation. ', h('a', { href: '#/memories' }, 'Back to your memories'), '.'));
}
