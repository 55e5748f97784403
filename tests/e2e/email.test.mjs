// E-mail verification and change of address against the real endpoints, with real mail:
// - the banner's "Resend the link" → the mail → #/verify-email → confirmed, the banner goes;
// - the security page's change of address (with the re-authentication prompt when the
//   step-up window passed) → the mail to the new address → #/confirm-email → the new address;
//   the old address's mail → #/revert-email → the previous address back, the account locked
//   and its sessions ended.
//
// spa-email.test.mjs covers the answers that are hard to provoke for real (a 429 countdown, the
// 409s) against stubbed answers of the same contract.
import assert from 'node:assert/strict';

import {
  BASE, e2eTest, login, mailsTo, newAccount, registerTenant, sleep, step, submitLogin, waitForMail,
  waitForView, withOptionalStepUp,
} from './lib/harness.mjs';

const VERIFY_LINK = `${BASE}/#/verify-email?token=`;
const CONFIRM_LINK = `${BASE}/#/confirm-email?token=`;
const REVERT_LINK = `${BASE}/#/revert-email?token=`;

const linkPattern = (prefix) => new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9_-]+`);

/** The newest link of this kind mailed to `address`, once the deliverer has settled. */
async function newestLink(address, prefix) {
  const pattern = linkPattern(prefix);
  await waitForMail(address, { text: pattern });
  await sleep(2500); // the deliverer polls every second: let a second mail of the kind land
  const mails = mailsTo(address).filter((m) => pattern.test(m.text));
  return pattern.exec(mails[mails.length - 1].text)[0];
}

async function openMailLink(page, link) {
  await page.goto('about:blank');
  await page.goto(link);
}

e2eTest('verification: Resend → the mail → the link confirms the address; the banner goes', async (scene, t) => {
  const account = newAccount('iris');
  const user = await scene.user('iris');
  const { page } = user;

  await step(t, 'register and log in: not confirmed yet, the banner shows', async () => {
    await registerTenant(user, account);
    const answer = await login(user, account);
    assert.equal(answer.email_verified, false);
    await page.locator('#verify-banner').waitFor();
  });

  await step(t, 'Resend the link: 202 (or the wait of an earlier mail)', async () => {
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/email/verify/resend'));
    await page.locator('#verify-banner').getByRole('button', { name: 'Resend the link' }).click();
    const status = (await answer).status();
    assert.ok([202, 429].includes(status), `resend answered ${status}`);
    await page.locator('#verify-banner .resend-status').filter({ hasText: /./ }).waitFor();
  });

  await step(t, 'the link from the mail confirms the address and leaves the address bar', async () => {
    const link = await newestLink(account.email, VERIFY_LINK);
    await openMailLink(page, link);
    await waitForView(page, 'Confirm your e-mail address');
    assert.equal(page.url(), `${BASE}/#/verify-email`);
    await page.locator('#outcome', { hasText: 'Your e-mail address is confirmed' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await waitForView(page, 'Memories');
    assert.equal(await page.locator('#verify-banner').count(), 0);
  });

  await step(t, 'the spent link is refused', async () => {
    const link = await newestLink(account.email, VERIFY_LINK);
    await openMailLink(page, link);
    await page.locator('#outcome', { hasText: 'This confirmation link can’t be used' }).waitFor();
  });
});

e2eTest('change of address: confirm from the new one; undo from the old one locks the account', async (scene, t) => {
  const account = newAccount('jude');
  const fresh = `changed-${account.email}`;
  const user = await scene.user('jude');
  const { page } = user;

  await step(t, 'register, log in, ask for the change on the security page', async () => {
    await registerTenant(user, account);
    await login(user, account);
    await page.locator('#site-nav').getByRole('link', { name: 'Security', exact: true }).click();
    await waitForView(page, 'Account and security');
    await page.getByLabel('New e-mail address').fill(fresh);
    await page.getByRole('button', { name: 'Change e-mail address' }).click();
    const notice = page.locator('#email-change-sent');
    await withOptionalStepUp(page, notice, { password: account.password });
    assert.equal(await notice.textContent(), `We sent a confirmation link to ${fresh}. Your address changes when you open it.`);
    assert.equal(await page.locator('#current-email').textContent(), account.email);
  });

  await step(t, 'the link mailed to the new address makes it the account’s address', async () => {
    const link = await newestLink(fresh, CONFIRM_LINK);
    await openMailLink(page, link);
    await waitForView(page, 'Confirm your new e-mail address');
    assert.equal(page.url(), `${BASE}/#/confirm-email`);
    await page.locator('#new-address', { hasText: `You log in with ${fresh} from now on.` }).waitFor();
  });

  await step(t, 'the old address was told, with a link to undo; undoing locks the account', async () => {
    const link = await newestLink(account.email, REVERT_LINK);
    await openMailLink(page, link);
    await waitForView(page, 'Undo the e-mail change');
    assert.equal(page.url(), `${BASE}/#/revert-email`);
    await page.getByRole('button', { name: 'Restore my previous address' }).click();
    await page.locator('#outcome', { hasText: 'Your previous address is back' }).waitFor();
  });

  await step(t, 'the account is locked: neither address logs in', async () => {
    // The restored address names a suspended account: the right password is told so.
    const restored = await submitLogin(user, account);
    assert.equal(restored.status, 403, 'the restored address is suspended');
    assert.equal(restored.body.error.code, 'account_suspended');
    // The address that was taken over names no account any more.
    const { status } = await submitLogin(user, { ...account, email: fresh });
    assert.equal(status, 401, `login as ${fresh} is refused`);
  });
});
