// portcullis SPA — start-up, navigation, the header, and the answers every view shares
// (expired session, step-up, enrolment-only, verification-only), the links from mails that
// carry a token, and the "confirm your e-mail" banner. Loaded as an ES module from a file: the
// CSP allows no inline script.

import { configureApi, get } from './api.js';
import {
  applyStaticText, LANGUAGES, language, languagePicked, onLanguageChange, setLanguage, t,
} from './i18n.js';
import { h, replace } from './dom.js';
import { Router, navigate, parseHash } from './router.js';
import {
  session, applyLogin, clearSession, onSessionChange, isLoggedIn, isAdmin, isOwner, isRestricted,
  needsEmailVerification,
} from './session.js';
import { flash, flashNext, showPendingFlash, errorNotice, errorText } from './ui.js';
import { reauthenticate } from './reauth.js';
import { homePath, logout, setReturnTo } from './flow.js';
import { keepLinkToken } from './link-token.js';
import { verificationBanner } from './verification.js';
import * as authViews from './views/auth.js';
import * as recoveryViews from './views/recovery.js';
import * as emailViews from './views/email.js';
import * as memoryViews from './views/memories.js';
import { contextsView } from './views/contexts.js';
import { sessionsView } from './views/sessions.js';
import { securityView, enrolView } from './views/security.js';
import { membersView } from './views/members.js';
import { invitationsView } from './views/invitations.js';
import { settingsView } from './views/settings.js';
import { auditView } from './views/audit.js';
import { notFoundView, forbiddenView } from './views/errors.js';

// access: guest (logged out only), any, verify (password given, second factor pending),
// enrol (enrolment-only session), unverified (verification-only session), user, admin, owner.
// linkToken: the page is opened from a link in a mail that carries ?token=…; the token is
// taken out of the address (and so out of the history) before anything else happens.
const router = new Router([
  { pattern: '/login', title: 'title.login', access: 'guest', view: authViews.loginView },
  { pattern: '/login/verify', title: 'title.login_verify', access: 'verify', view: authViews.verifyView },
  { pattern: '/register', title: 'title.register', access: 'guest', view: authViews.registerView },
  { pattern: '/join', title: 'title.join', access: 'any', linkToken: true, view: authViews.joinView },
  { pattern: '/forgot', title: 'title.forgot', access: 'guest', view: recoveryViews.forgotView },
  { pattern: '/reset', title: 'title.reset', access: 'any', linkToken: true, view: recoveryViews.resetView },
  { pattern: '/verify-email', title: 'title.verify_email', access: 'any', linkToken: true, view: emailViews.verifyEmailView },
  { pattern: '/confirm-email', title: 'title.confirm_email', access: 'any', linkToken: true, view: emailViews.confirmEmailView },
  { pattern: '/revert-email', title: 'title.revert_email', access: 'any', linkToken: true, view: emailViews.revertEmailView },
  { pattern: '/verify-required', title: 'title.verify_required', access: 'unverified', view: emailViews.verificationRequiredView },
  { pattern: '/enrol', title: 'title.enrol', access: 'enrol', view: enrolView },
  { pattern: '/memories', title: 'title.memories', access: 'user', nav: 'memories', view: memoryViews.listView },
  { pattern: '/memories/new', title: 'title.memories_new', access: 'user', nav: 'memories', view: memoryViews.createView },
  { pattern: '/memories/:id', title: 'title.memories_id', access: 'user', nav: 'memories', view: memoryViews.detailView },
  { pattern: '/memories/:id/edit', title: 'title.memories_edit', access: 'user', nav: 'memories', view: memoryViews.editView },
  { pattern: '/contexts', title: 'title.contexts', access: 'user', nav: 'contexts', view: contextsView },
  { pattern: '/sessions', title: 'title.sessions', access: 'user', nav: 'sessions', view: sessionsView },
  { pattern: '/security', title: 'title.security', access: 'user', nav: 'security', view: securityView },
  { pattern: '/members', title: 'title.members', access: 'admin', nav: 'members', view: membersView },
  { pattern: '/invitations', title: 'title.invitations', access: 'admin', nav: 'invitations', view: invitationsView },
  { pattern: '/audit', title: 'title.audit', access: 'admin', nav: 'audit', view: auditView },
  { pattern: '/settings', title: 'title.settings', access: 'owner', nav: 'settings', view: settingsView },
]);

const NAV = [
  { key: 'memories', label: 'nav.memories', href: '#/memories' },
  { key: 'contexts', label: 'nav.contexts', href: '#/contexts' },
  { key: 'sessions', label: 'nav.sessions', href: '#/sessions' },
  { key: 'security', label: 'nav.security', href: '#/security' },
  { key: 'members', label: 'nav.members', href: '#/members', admin: true },
  { key: 'invitations', label: 'nav.invitations', href: '#/invitations', admin: true },
  { key: 'audit', label: 'nav.audit', href: '#/audit', admin: true },
  { key: 'settings', label: 'nav.settings', href: '#/settings', owner: true },
];

let expiryTimer = null;

// --- the answers every view shares ------------------------------------------------------------

function sessionEnded(message = t('session.expired')) {
  const { path, query } = parseHash();
  const match = router.match(path);
  if (match && !['guest', 'verify', 'any'].includes(match.route.access)) {
    setReturnTo({ path, query, email: session.user ? session.user.email : null });
  }
  clearSession();
  flashNext(message, 'info');
  navigate('/login');
}

configureApi({
  // A session revoked from elsewhere says so; an idle or expired one says it expired.
  onExpired: (error) => sessionEnded(error && error.code === 'session_revoked'
    ? t('session.revoked') : t('session.expired')),
  onEnrollmentRequired: () => {
    session.enrollmentOnly = true;
    renderNav();
    navigate(homePath());
  },
  onVerificationRequired: () => {
    session.verificationOnly = true;
    renderNav();
    navigate(homePath());
  },
  // An enrolment-only or verification-only session can't re-authenticate (the API allows it
  // only its few routes): null tells the caller no prompt was possible.
  onStepUp: () => (isRestricted() ? null : reauthenticate()),
});

// --- header ---------------------------------------------------------------------------------------

const nav = document.getElementById('site-nav');
const navLinks = document.getElementById('nav-links');
const account = document.getElementById('account');
const accountNames = [document.getElementById('account-name'), document.getElementById('nav-account-name')];
const menuToggle = document.getElementById('menu-toggle');

function setMenuOpen(open) {
  menuToggle.setAttribute('aria-expanded', String(open));
  nav.classList.toggle('is-open', open);
}

function renderNav() {
  const loggedIn = isLoggedIn();
  const showNav = loggedIn || isRestricted();
  nav.hidden = !showNav;
  account.hidden = !showNav;
  menuToggle.hidden = !showNav;
  if (!showNav) {
    navLinks.replaceChildren();
    setMenuOpen(false);
    return;
  }
  const current = router.match(parseHash().path);
  const active = current ? current.route.nav : null;
  const items = loggedIn
    ? NAV.filter((item) => (!item.admin || isAdmin()) && (!item.owner || isOwner()))
    : [];
  replace(navLinks, items.map((item) => h('li', {},
    h('a', {
      href: item.href,
      class: 'nav-link',
      'aria-current': item.key === active ? 'page' : null,
      onclick: (event) => {
        setMenuOpen(false);
        // The tab of a view starts it afresh (the memory list at its first page); clicking the
        // tab of the view on screen reloads it.
        if (item.key === 'memories') memoryViews.resetMemoryList();
        if (window.location.hash === item.href) {
          event.preventDefault();
          navigate(item.href.slice(1));
        }
      },
    }, t(item.label)))));
  const who = session.user ? (session.user.display_name || session.user.email) : '';
  for (const el of accountNames) {
    replace(el, h('span', { class: 'account-user' }, who),
      session.tenant ? h('span', { class: 'account-tenant' }, session.tenant.name) : null);
    el.title = session.user ? session.user.email : '';
  }
}

menuToggle.addEventListener('click', () => {
  setMenuOpen(menuToggle.getAttribute('aria-expanded') !== 'true');
});
for (const id of ['logout-button', 'nav-logout-button']) {
  document.getElementById(id).addEventListener('click', () => logout());
}
document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  const target = document.getElementById('page-title') || document.getElementById('main');
  target.focus();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && nav.classList.contains('is-open')) {
    setMenuOpen(false);
    menuToggle.focus();
  }
});
onSessionChange(() => {
  renderNav();
  renderBanner();
  scheduleExpiryCheck();
});

// The "confirm your e-mail" banner: over the pages of a full session whose address is not
// confirmed yet (a tenant that requires it shows the verification-only screen instead).
const bannerRegion = document.getElementById('account-banner');
let bannerFor = null; // the address the banner on screen speaks of

function renderBanner() {
  const current = router.match(parseHash().path);
  const onAppPage = current && ['user', 'admin', 'owner'].includes(current.route.access);
  const address = isLoggedIn() && needsEmailVerification() && onAppPage ? session.user.email : null;
  // Left as it is while it speaks of the same address, so the outcome of "Resend" stays.
  if (address === bannerFor) return;
  bannerFor = address;
  if (address) replace(bannerRegion, verificationBanner(address));
  else bannerRegion.replaceChildren();
}

// When the session's absolute lifetime ends, ask the server (the answer sends us to login).
// Nothing polls in between: a request would count as activity and defeat the idle timeout.
function scheduleExpiryCheck() {
  clearTimeout(expiryTimer);
  expiryTimer = null;
  const expires = session.info && session.info.expires_at ? Date.parse(session.info.expires_at) : NaN;
  if (!isLoggedIn() || Number.isNaN(expires)) return;
  const delay = Math.min(Math.max(expires - Date.now() + 1000, 1000), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => {
    get('/me').then(applyLogin).catch(() => { /* onExpired already moved us to login */ });
  }, delay);
}

// --- rendering ------------------------------------------------------------------------------------

const main = document.getElementById('main');
let renderCount = 0;

/**
 * A link from a mail (#/reset?token=…): keep its token in memory only and replace this
 * history entry with the bare route, so the token is neither kept in the history nor shown in
 * the address bar (nginx's Referrer-Policy: no-referrer keeps it out of any Referer too).
 * Runs before the route's guard and view, and once at start-up before the first request.
 */
function takeLinkToken(match, path, query) {
  if (!match || !match.route.linkToken || !query.has('token')) return;
  keepLinkToken(match.route.pattern, query.get('token'));
  query.delete('token');
  window.history.replaceState(null, '', `#${path}${query.toString() ? `?${query}` : ''}`);
}

function guard(route) {
  const access = route.access;
  if (access === 'any') return null;
  if (access === 'verify') return session.mfaPending ? null : '/login';
  if (access === 'guest') return isLoggedIn() || isRestricted() ? homePath() : null;
  if (access === 'unverified') return session.verificationOnly ? null : homePath();
  if (access === 'enrol') return session.enrollmentOnly && !session.verificationOnly ? null : homePath();
  // user, admin, owner
  if (isRestricted()) return homePath();
  if (!isLoggedIn()) return '/login';
  return null;
}

async function render() {
  renderCount += 1;
  const mine = renderCount;
  const { path, query } = parseHash();
  if (path === '/') {
    navigate(homePath());
    return;
  }
  const match = router.match(path);
  takeLinkToken(match, path, query);
  setMenuOpen(false);
  const root = h('div', { class: 'view' });
  replace(main, root);
  let title = t('title.not_found');
  let view = notFoundView;
  let params = {};
  if (match) {
    const redirect = guard(match.route);
    if (redirect) {
      if (redirect === '/login' && !session.mfaPending) setReturnTo({ path, query });
      navigate(redirect);
      return;
    }
    ({ params } = match);
    title = t(match.route.title);
    view = match.route.view;
    if ((match.route.access === 'admin' && !isAdmin()) || (match.route.access === 'owner' && !isOwner())) {
      view = forbiddenView;
      title = t('title.no_access');
    }
  }
  document.title = `${title} · portcullis`;
  main.dataset.view = match ? match.route.pattern : 'not-found';
  renderNav();
  renderBanner();
  main.setAttribute('aria-busy', 'true');
  const setTitle = (text) => {
    if (mine === renderCount) document.title = `${text} · portcullis`;
  };
  let pending;
  try {
    pending = view(root, { params, query, path, setTitle });
  } catch (error) {
    pending = Promise.reject(error);
  }
  showPendingFlash();
  const heading = root.querySelector('#page-title');
  if (heading && !root.contains(document.activeElement)) heading.focus({ preventScroll: false });
  try {
    await pending;
  } catch (error) {
    if (mine === renderCount && !(error && error.handled)) {
      root.append(errorNotice(error, { title: t('error.page_failed') }));
    }
  } finally {
    if (mine === renderCount) main.removeAttribute('aria-busy');
  }
}

// --- language -----------------------------------------------------------------------------------

/** The language picker in the footer: "Language: [Browser default | English | Deutsch]". */
function renderLanguagePicker() {
  const slot = document.getElementById('language-picker');
  if (!slot) return;
  const select = h('select', { id: 'language-select', class: 'input input-small' },
    h('option', { value: '' }, t('language.browser')),
    LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code }, l.name)));
  select.value = languagePicked() ? language() : '';
  select.addEventListener('change', () => setLanguage(select.value));
  replace(slot, h('label', { for: 'language-select', class: 'language-label' }, t('language.label')), ' ', select);
}

onLanguageChange(() => {
  renderLanguagePicker();
  renderNav();
  bannerFor = null;
  renderBanner();
  render();
});

async function start() {
  applyStaticText();
  renderLanguagePicker();
  const first = parseHash();
  takeLinkToken(router.match(first.path), first.path, first.query);
  try {
    // The session cookie is HttpOnly: asking the server is the only way to know who we are,
    // and GET /me hands back the CSRF token for this session.
    applyLogin(await get('/me', { public: true }));
  } catch (error) {
    clearSession();
    if (error && error.code === 'session_expired') {
      flashNext(t('session.expired'), 'info');
    } else if (error && error.code === 'session_revoked') {
      flashNext(t('session.revoked'), 'info');
    } else if (error && error.status !== 401) {
      // errorText already says the service could not be reached: said once, not twice.
      flashNext(errorText(error), 'error');
    }
  }
  window.addEventListener('hashchange', render);
  await render();
}

start().catch((error) => {
  flash(t('error.start_failed', { message: error && error.message ? error.message : String(error) }), 'error');
});
