// TOTP enrolment, shared by the security page and the enrolment-only screen:
// setup (QR code + key) → first code → backup codes, shown once, to copy or download.

import { post, setCsrfToken } from './api.js';
import { h, replace } from './dom.js';
import { session, updateUser } from './session.js';
import {
  busy, button, clearFormErrors, codeErrorOnField, copyButton, downloadButton, errorNotice, field, form,
  showFormErrors,
} from './ui.js';
import { t } from './i18n.js';

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
  svg.setAttribute('aria-label', t('mfa.qr_code_to_scan'));
  svg.setAttribute('class', 'qr-code');
  svg.setAttribute('focusable', 'false');
  return svg;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP" for reading aloud or typing. */
function groupSecret(secret) {
  return String(secret).replace(/(.{4})(?=.)/g, '$1 ');
}

/** The backup codes, shown once, with copy and download. onDone runs on "I saved them". */
export function backupCodesPanel(codes, { onDone, doneLabel = t('mfa.i_have_saved_my') }) {
  const text = () => `${t('mfa.backup_file_title', { email: session.user ? session.user.email : t('mfa.your_account') })}\n${t('mfa.backup_file_text')}\n\n`
    + `${codes.join('\n')}\n`;
  const done = button(doneLabel, { variant: 'primary', id: 'backup-codes-done', onclick: onDone });
  return h('section', { class: 'backup-codes-panel', id: 'backup-codes', 'aria-labelledby': 'backup-codes-title' },
    h('h2', { id: 'backup-codes-title', tabindex: '-1' }, t('mfa.save_your_backup_codes')),
    h('p', { class: 'notice notice-warning' },
      t('mfa.these_codes_are_shown')),
    h('ol', { class: 'backup-code-list' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'button-row' },
      copyButton(() => codes.join('\n'), { label: t('mfa.copy_codes'), what: t('mfa.backup_codes') }),
      downloadButton('portcullis-backup-codes.txt', text, { label: t('mfa.download_as_text_file') })),
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
      label: t('mfa.code_from_the_app'), name: 'code', required: true, autocomplete: 'one-time-code',
      inputmode: 'numeric', maxlength: 6, short: true, hint: t('mfa.the_digit_code_your'),
      spellcheck: 'false',
    });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('mfa.turn_on_two_factor'));
    const formEl = form({ class: 'form', id: 'totp-enable-form' },
      code.wrapper,
      h('div', { class: 'form-actions' }, submit, onCancel ? button(t('mfa.cancel'), { variant: 'quiet', onclick: onCancel }) : null));
    formEl.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormErrors(formEl);
      const value = code.input.value.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(value)) {
        showFormErrors(formEl, { message: t('mfa.please_correct_the_marked'), fields: { code: { text: t('mfa.must_be_the_digits') } } });
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
            h('h3', {}, t('mfa.scan_the_qr_code')),
            h('p', {}, t('mfa.open_an_authenticator_app')),
            qr ? h('figure', { class: 'qr-frame' }, qr) : h('p', { class: 'notice notice-error' }, t('mfa.the_qr_code_could'))),
          h('li', {},
            h('h3', {}, t('mfa.or_type_the_key')),
            h('p', {}, t('mfa.if_you_can_t')),
            h('p', { class: 'secret' }, h('code', { id: 'totp-secret', dataset: { secret: setup.secret } }, groupSecret(setup.secret))),
            h('div', { class: 'button-row' }, copyButton(() => setup.secret, { label: t('mfa.copy_key'), what: t('mfa.setup_key') }))),
          h('li', {},
            h('h3', {}, t('mfa.enter_a_code_to')),
            formEl))));
    code.input.focus({ preventScroll: true });
  }

  if (autoStart) {
    replace(container, h('p', { class: 'loading', role: 'status' }, t('mfa.preparing_your_setup_key')), errorSlot);
    start(null);
  } else {
    const begin = button(t('mfa.set_up_an_authenticator'), { variant: 'primary', id: 'start-totp' });
    begin.addEventListener('click', () => start(begin));
    replace(container,
      h('p', {}, t('mfa.protect_your_account_with')),
      h('div', { class: 'button-row' }, begin, onCancel ? button(t('mfa.cancel'), { variant: 'quiet', onclick: onCancel }) : null),
      errorSlot);
  }
}
