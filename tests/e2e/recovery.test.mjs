// Account recovery with real mail, and the sessions list's devices:
// - forgot password → the mail in the loopback SMTP sink → its link opens the reset page (the
//   token leaves the address bar at once) → a new password (the policy error beside its field
//   first) → the login page → the new password logs in, the old one no longer does; the spent
//   link is refused with a way to ask for a new one; the same neutral answer for an unknown
//   address, which gets no mail;
// - the same for an account with two-factor authentication: the reset page asks for a code
//   when the API wants one, and a backup code completes it;
// - the sessions list names each session's browser and OS, its address and last activity,
//   marks this device and a new one.
import assert from 'node:assert/strict';

import {
  BASE, e2eTest, flashText, linkIn, login, mailsTo, newAccount, registerTenant, step, submitLogin, totpCode,
  unique, waitForMail, waitForView, withOptionalStepUp,
} from './lib/harness.mjs';

const RESET_SUBJECT = /^Reset your portcullis password$/;
const CHANGED_SUBJECT = /^Your portcullis password was changed$/;
const NEUTRAL = 'If an account uses this address, a link to reset its password is on its way.';

/** From the login page: "Forgot password?" → ask for a link for `email`; the answer shown. */
async function askForResetLink(page, email) {
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await waitForView(page, 'Forgot your password?');
  await page.getByLabel('E-mail').fill(email);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/password/forgot'));
  await page.getByRole('button', { name: 'Send the reset link' }).click();
  assert.equal((await answer).status(), 202);
  const outcome = page.locator('#outcome');
  await outcome.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'outcome', 'the answer takes focus');
  return (await page.locator('#forgot-message').textContent()).trim();
}

/** Open a link from a mail as a click in a mail client would: a fresh page load. */
async function openMailLink(page, link) {
  await page.goto('about:blank');
  await page.goto(link);
}

/** The reset page has taken the token out of the address bar and kept it nowhere visible. */
async function assertTokenGone(user, token) {
  const { page } = user;
  assert.equal(page.url(), `${BASE}/#/reset`, 'the address bar shows the bare route');
  const seen = await page.evaluate(() => ({
    href: window.location.href,
    html: document.documentElement.outerHTML,
    local: JSON.stringify(Object.entries(window.localStorage)),
    session: JSON.stringify(Object.entries(window.sessionStorage)),
  }));
  for (const [where, text] of Object.entries(seen)) {
    assert.ok(!text.includes(token), `the token is not in ${where}`);
  }
}

async function logOut(page) {
  await page.locator('#logout-button').click();
  await waitForView(page, 'Log in');
}

e2eTest('recovery: forgot password → the link from the mail → a new password → log in', async (scene, t) => {
  const account = newAccount('rosa');
  const stranger = `${unique('nobody')}@example.com`;
  const user = await scene.user('rosa');
  const { page } = user;
  const newPassword = `Harbour-${unique('x').slice(-6)}-Copper-Lichen-Window`;
  let link = null;
  let token = null;

  await step(t, 'register, log in, log out', async () => {
    await registerTenant(user, account);
    await login(user, account);
    await logOut(page);
  });

  await step(t, 'forgot password for an unknown address: the neutral answer', async () => {
    assert.equal(await askForResetLink(page, stranger), NEUTRAL);
    await page.getByRole('link', { name: 'Log in' }).click();
    await waitForView(page, 'Log in');
  });

  await step(t, 'forgot password for the account: the same answer; the address typed is carried over', async () => {
    await page.getByLabel('E-mail').fill(account.email);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await waitForView(page, 'Forgot your password?');
    assert.equal(await page.getByLabel('E-mail').inputValue(), account.email, 'the login form’s address is offered');
    await page.getByRole('link', { name: 'Log in' }).click();
    await waitForView(page, 'Log in');
    assert.equal(await askForResetLink(page, account.email), NEUTRAL);
  });

  await step(t, 'the mail arrives at the SMTP sink; its text part holds the link to this origin', async () => {
    const mail = await waitForMail(account.email, { subject: RESET_SUBJECT });
    link = linkIn(mail, `${BASE}/#/reset?token=`);
    token = new URL(link).hash.split('token=')[1];
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit base64url token');
    assert.match(mail.text, /within 30 minutes/);
    // The unknown address was asked for first: it was dropped, never mailed.
    assert.equal(mailsTo(stranger).length, 0, 'no mail to an address without an account');
  });

  await step(t, 'the link opens the reset page; the token leaves the address bar at once', async () => {
    await openMailLink(page, link);
    await waitForView(page, 'Choose a new password');
    await assertTokenGone(user, token);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'page-title', 'focus on the heading');
  });

  await step(t, 'a password the policy refuses: the error beside the field', async () => {
    await page.getByLabel('New password', { exact: true }).fill('too short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    const error = page.locator('#reset-form [data-field="new_password"] .field-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'New password must be at least 15 characters.');
    const input = page.getByLabel('New password', { exact: true });
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'new_password', 'focus moves to the field');
    assert.equal(await page.locator('[data-field="code"]').isVisible(), false, 'no code field without MFA');
  });

  await step(t, 'a new password: back to the login page with the confirmation', async () => {
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/password/reset'));
    await page.getByRole('button', { name: 'Set new password' }).click();
    assert.equal((await answer).status(), 200);
    await waitForView(page, 'Log in');
    assert.equal(await flashText(page), 'Your password was changed. Sign in with the new one.');
    assert.equal(new URL(page.url()).hash, '#/login');
    await waitForMail(account.email, { subject: CHANGED_SUBJECT });
  });

  await step(t, 'the spent link is refused, with a way to ask for a new one', async () => {
    await openMailLink(page, link);
    await waitForView(page, 'Choose a new password');
    await assertTokenGone(user, token);
    await page.getByLabel('New password', { exact: true }).fill(`${newPassword}-again`);
    await page.getByRole('button', { name: 'Set new password' }).click();
    const outcome = page.locator('#outcome');
    await outcome.waitFor();
    assert.match(await outcome.textContent(), /This reset link can’t be used/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'outcome');
    await page.locator('#request-new-link').click();
    await waitForView(page, 'Forgot your password?');
  });

  await step(t, 'the old password fails, the new one logs in', async () => {
    const old = await submitLogin(user, account);
    assert.equal(old.status, 401);
    assert.equal(await page.locator('#login-form .notice-error').textContent(), 'The e-mail or password is incorrect.');
    const fresh = await submitLogin(user, { ...account, password: newPassword }, { open: false });
    assert.equal(fresh.status, 200);
    await waitForView(page, 'Memories');
  });

  await step(t, 'the history entry of the link holds the bare route, not the token', async () => {
    await openMailLink(page, link);
    await waitForView(page, 'Choose a new password');
    await page.goBack();
    assert.equal(page.url(), 'about:blank');
    await page.goForward();
    await waitForView(page, 'Choose a new password');
    assert.equal(page.url(), `${BASE}/#/reset`, 'forward leads to the bare route');
  });

  await step(t, 'the reset page without a token (a reload) asks for the link again', async () => {
    await logOut(page);
    await user.open('/reset');
    await waitForView(page, 'Choose a new password');
    assert.match(await page.locator('#outcome').textContent(), /Open the link from your e-mail/);
    assert.equal(await page.locator('#reset-form').count(), 0);
  });
});

e2eTest('recovery with two-factor authentication: the reset page asks for a code', async (scene, t) => {
  const account = newAccount('milo');
  const user = await scene.user('milo');
  const { page } = user;
  const newPassword = `Orchard-${unique('x').slice(-6)}-Basalt-Meridian-Kettle`;
  let backupCodes = [];
  let link = null;

  await step(t, 'register, log in, turn on TOTP (a code from oathtool), log out', async () => {
    await registerTenant(user, account);
    await login(user, account);
    await page.locator('#site-nav').getByRole('link', { name: 'Security', exact: true }).click();
    await waitForView(page, 'Account and security');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await withOptionalStepUp(page, page.locator('#totp-secret'), { password: account.password });
    const secret = await page.locator('#totp-secret').getAttribute('data-secret');
    await page.getByLabel('Code from the app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.locator('#backup-codes').waitFor();
    backupCodes = await page.locator('#backup-codes .backup-code-list code').allTextContents();
    assert.equal(backupCodes.length, 10);
    await page.getByRole('button', { name: 'I have saved my backup codes' }).click();
    await page.locator('#mfa-status', { hasText: 'On' }).waitFor();
    await logOut(page);
  });

  await step(t, 'forgot password → the mail → the reset page', async () => {
    assert.equal(await askForResetLink(page, account.email), NEUTRAL);
    link = linkIn(await waitForMail(account.email, { subject: RESET_SUBJECT }), `${BASE}/#/reset?token=`);
    await openMailLink(page, link);
    await waitForView(page, 'Choose a new password');
    assert.equal(page.url(), `${BASE}/#/reset`);
  });

  await step(t, 'the API asks for the second factor: the code field appears and takes focus', async () => {
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    const code = page.getByLabel('Authentication code or backup code');
    await code.waitFor();
    assert.match(await page.locator('#reset-form .form-errors').textContent(), /two-factor authentication/);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'code');
  });

  await step(t, 'a wrong code is marked on the field; a backup code completes the reset', async () => {
    await page.getByLabel('Authentication code or backup code').fill('000000');
    await page.getByRole('button', { name: 'Set new password' }).click();
    const error = page.locator('#reset-form [data-field="code"] .field-error');
    await error.waitFor();
    assert.match(await error.textContent(), /^Code is not valid/);
    await page.getByLabel('Authentication code or backup code').fill(backupCodes[0]);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await waitForView(page, 'Log in');
    assert.equal(await flashText(page), 'Your password was changed. Sign in with the new one.');
  });

  await step(t, 'the new password and a backup code log in', async () => {
    const { body } = await submitLogin(user, { ...account, password: newPassword }, { open: false });
    assert.equal(body.mfa_required, true);
    await waitForView(page, 'Two-factor authentication');
    await page.getByRole('button', { name: 'Use a backup code instead' }).click();
    await page.getByLabel('Backup code').fill(backupCodes[1]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForView(page, 'Memories');
  });
});

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_MACOS = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) '
  + 'Version/17.5 Safari/605.1.15';

e2eTest('sessions list: browser and OS, address, last activity, this device and a new one', async (scene, t) => {
  const account = newAccount('tess');
  const desk = await scene.user('tess-desktop', { userAgent: FIREFOX_WINDOWS });
  const laptop = await scene.user('tess-laptop', { userAgent: SAFARI_MACOS });

  await step(t, 'register; sign in from a Firefox on Windows, then from a Safari on macOS', async () => {
    await registerTenant(desk, account);
    await login(desk, account);
    await login(laptop, account);
  });

  await step(t, 'each session shows its browser and OS, address and last activity', async () => {
    const { page } = desk;
    await page.locator('#site-nav').getByRole('link', { name: 'Sessions', exact: true }).click();
    await waitForView(page, 'Sessions');
    const rows = page.locator('#session-list .item');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const current = page.locator('#session-list .item[data-current="true"]');
    const other = page.locator('#session-list .item[data-current="false"]');
    assert.equal(await current.locator('.session-device').textContent(), 'Firefox on Windows');
    assert.equal(await current.locator('.current-badge').textContent(), 'This device');
    assert.equal(await current.locator('.new-device-badge').count(), 0, 'the first sign-in is never “new”');
    assert.equal(await other.locator('.session-device').textContent(), 'Safari on macOS');
    assert.equal(await other.locator('.new-device-badge').textContent(), 'New device');
    assert.equal(await other.locator('.current-badge').count(), 0);
    for (const row of [current, other]) {
      assert.equal(await row.locator('.session-ip').textContent(), '127.0.0.1');
      assert.match(await row.locator('.session-last-seen').textContent(), /just now|minute/);
      assert.ok(await row.locator('.session-last-seen time').getAttribute('datetime'), 'a machine-readable time');
    }
    const revoke = other.locator('.revoke-session');
    assert.match(await revoke.getAttribute('aria-label'), /^Revoke the session of Safari on macOS, last active /);
    assert.equal(await current.getByRole('button', { name: 'Log out' }).count(), 1);
  });

  await step(t, 'the other browser sees itself as this device, and as new', async () => {
    const { page } = laptop;
    await page.locator('#site-nav').getByRole('link', { name: 'Sessions', exact: true }).click();
    await waitForView(page, 'Sessions');
    const current = page.locator('#session-list .item[data-current="true"]');
    await current.waitFor();
    assert.equal(await current.locator('.session-device').textContent(), 'Safari on macOS');
    assert.equal(await current.locator('.new-device-badge').textContent(), 'New device');
  });

  await step(t, 'revoke the other session from the list', async () => {
    const { page } = desk;
    await page.locator('#session-list .item[data-current="false"] .revoke-session').click();
    const dialog = page.locator('dialog.dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Safari on macOS \(127\.0\.0\.1\)/);
    await dialog.getByRole('button', { name: 'Revoke session', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('#session-list .item').length === 1);
  });
});
