// TOTP enrolment, shared by the security page and the enrolment-only screen:
// setup (QR code + key) → first code → backup codes, shown once, to copy or download.

import { post, setCsrfToken } from './api.js';
import { h, replace } from './dom.js';
import { session, updateUser } from './session.js';
import {
  busy, button, clearFormErrors, codeErrorOnField, copyButton, downloadButton, errorNotice, field, form,
  showFormErrors,
} from './ui.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_ELEMENTS = new Set(['svg', 'g', 'rect', 'path', 'title', 'desc']);

/**
 * The API's QR code (an SVG string of <rect>/<path> elements) as a DOM node. Parsed as XML by
 * DOMParser and imported into the page — never assigned as HTML — and reduced to plain shapes:
 * no scripts, no event handler or style attributes, no links.
 */
export function qrCodeElement(svgText) {
  const doc = new DOMParser().parseFromString(String(svgText || ''), 'image/svg+xml');
  const source = doc.documentElement;
  if (!source || source.namespaceURI !== SVG_NS || source.localName !== 'svg'
      || doc.getElementsByTagName('parsererror').length) {
    return null;
  }
  for (const el of [source, ...source.querySelectorAll('*')]) {
    if (el !== source && (el.namespaceURI !== SVG_NS || !SVG_ELEMENTS.has(el.localName))) {
      el.remove();
      continue;
    }
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name === 'style' || name.includes('href') || name === 'class') {
        el.removeAttribute(attr.name);
      }
    }
  }
  const svg = document.importNode(source, true);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code to scan with your authenticator app');
  svg.setAttribute('class', 'qr-code');
  svg.setAttribute('focusable', 'false');
  return svg;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP" for reading aloud or typing. */
function groupSecret(secret) {
  return String(secret).replace(/(.{4})(?=.)/g, '$1 ');
}

/** The backup codes, shown once, with copy and download. onDone runs on "I saved them". */
export function backupCodesPanel(codes, { onDone, doneLabel = 'I have saved my backup codes' }) {
  const text = () => `portcullis backup codes for ${session.user ? session.user.email : 'your account'}\n`
    + 'Each code can be used once instead of an authentication code.\n\n'
    + `${codes.join('\n')}\n`;
  const done = button(doneLabel, { variant: 'primary', id: 'backup-codes-done', onclick: onDone });
  return h('section', { class: 'backup-codes-panel', id: 'backup-codes', 'aria-labelledby': 'backup-codes-title' },
    h('h2', { id: 'backup-codes-title', tabindex: '-1' }, 'Save your backup codes'),
    h('p', { class: 'notice notice-warning' },
      'These codes are shown only now. Each one works once, if you lose access to your authenticator app. '
      + 'Keep them somewhere safe, such as a password manager.'),
    h('ol', { class: 'backup-code-list' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'button-row' },
      copyButton(() => codes.join('\n'), { label: 'Copy codes', what: 'Backup codes' }),
      downloadButton('portcullis-backup-codes.txt', text, { label: 'Download as text file' })),
    h('div', { class: 'button-row' }, done));
}

/**
 * Enrolment in `container`. autoStart: ask the API for a secret at once (the enrolment-only
 * screen). onTurnedOn(answer) runs as soon as the server turned it on; onEnabled(codesShown)
 * runs after the backup codes were acknowledged.
 */
export function totpEnrolment(container, {
  autoStart = false, onEnabled, onTurnedOn = null, onCancel = null, onStepUpImpossible = null,
}) {
  const errorSlot = h('div');

  async function start(trigger) {
    replace(errorSlot);
    let setup;
    try {
      setup = trigger
        ? await busy(trigger, 'Preparing…', () => post('/mfa/totp/setup'))
        : await post('/mfa/totp/setup');
    } catch (error) {
      if (error.handled) return;
      if (error.code === 'step_up_required' && onStepUpImpossible) {
        onStepUpImpossible(error);
        return;
      }
      errorSlot.append(errorNotice(error));
      return;
    }
    showSetup(setup);
  }

  function showSetup(setup) {
    const qr = qrCodeElement(setup.qr_svg);
    const code = field({
      label: 'Code from the app', name: 'code', required: true, autocomplete: 'one-time-code',
      inputmode: 'numeric', maxlength: 6, short: true, hint: 'The 6-digit code your app shows for portcullis.',
      spellcheck: 'false',
    });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Turn on two-factor authentication');
    const formEl = form({ class: 'form', id: 'totp-enable-form' },
      code.wrapper,
      h('div', { class: 'form-actions' }, submit, onCancel ? button('Cancel', { variant: 'quiet', onclick: onCancel }) : null));
    formEl.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormErrors(formEl);
      const value = code.input.value.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(value)) {
        showFormErrors(formEl, { message: 'Please correct the marked field.', fields: { code: 'must be the 6 digits your app shows' } });
        return;
      }
      try {
        const answer = await busy(submit, 'Checking…', () => post('/mfa/totp/enable', { code: value }));
        // Finishing enrolment in an enrolment-only session rotates it: new CSRF token.
        if (answer.csrf_token) setCsrfToken(answer.csrf_token);
        updateUser({ mfa_enabled: true });
        // The page's state says "on" at once, while the backup codes are still on screen.
        if (onTurnedOn) onTurnedOn(answer);
        const panel = backupCodesPanel(answer.backup_codes || [], { onDone: () => onEnabled(answer) });
        replace(container, panel);
        panel.querySelector('h2').focus();
      } catch (error) {
        showFormErrors(formEl, codeErrorOnField(error, 'code'));
        code.input.select();
      }
    });
    replace(container,
      h('div', { class: 'enrol', id: 'totp-setup' },
        h('ol', { class: 'steps' },
          h('li', {},
            h('h3', {}, 'Scan the QR code'),
            h('p', {}, 'Open an authenticator app (for example FreeOTP, Aegis, Google Authenticator or 1Password) and add an account by scanning this code.'),
            qr ? h('figure', { class: 'qr-frame' }, qr) : h('p', { class: 'notice notice-error' }, 'The QR code could not be shown: use the key below.')),
          h('li', {},
            h('h3', {}, 'Or type the key'),
            h('p', {}, 'If you can’t scan, choose “enter a setup key” in the app and type this key (time-based, 6 digits, 30 seconds):'),
            h('p', { class: 'secret' }, h('code', { id: 'totp-secret', dataset: { secret: setup.secret } }, groupSecret(setup.secret))),
            h('div', { class: 'button-row' }, copyButton(() => setup.secret, { label: 'Copy key', what: 'Setup key' }))),
          h('li', {},
            h('h3', {}, 'Enter a code to confirm'),
            formEl))));
    code.input.focus({ preventScroll: true });
  }

  if (autoStart) {
    replace(container, h('p', { class: 'loading', role: 'status' }, 'Preparing your setup key…'), errorSlot);
    start(null);
  } else {
    const begin = button('Set up an authenticator app', { variant: 'primary', id: 'start-totp' });
    begin.addEventListener('click', () => start(begin));
    replace(container,
      h('p', {}, 'Protect your account with a second step at login: a 6-digit code from an app on your phone.'),
      h('div', { class: 'button-row' }, begin, onCancel ? button('Cancel', { variant: 'quiet', onclick: onCancel }) : null),
      errorSlot);
  }
}
