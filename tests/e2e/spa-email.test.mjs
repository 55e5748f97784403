// The SPA's side of e-mail verification and e-mail change, against the agreed API contract
// while the endpoints themselves are not in this tree: the browser talks to the real stack,
// and only the answers of the new endpoints (and GET /me's new fields) are given by the test
// through playwright's page.route. What the real endpoints do is email.test.mjs's to check.
//
// Covered: the pages the links open (#/verify-email, #/confirm-email, #/revert-email) take the
// token out of the address bar before anything else, send it once in a POST body and show
// each outcome (focused); the revert page asks for a click first; the "confirm your e-mail"
// banner and its "Resend" (202, 429 with the wait counted down, 409); the verification-only
// screen, also reached from a 403 email_verification_required; the change of address on the
// security page with the re-authentication prompt and a field error.
import assert from 'node:assert/strict';

import {
  BASE, confirmIdentity, e2eTest, flashText, newAccount, registerTenant, step, submitLogin, waitForView,
} from './lib/harness.mjs';

function json(route, status, body, headers = {}) {
  return route.fulfill({ status, contentType: 'application/json', headers, body: JSON.stringify(body) });
}

function apiError(route, status, code, message, { headers = {}, fields = null } = {}) {
  return json(route, status, { error: { code, message, request_id: 'stubbed', ...(fields ? { fields } : {}) } }, headers);
}

/** Answer `path` (POST) with `answer(route, body)`; returns the list of bodies the page sent. */
async function stubPost(page, path, answer) {
  const bodies = [];
  await page.route(`${BASE}/api/v1${path}`, (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const body = route.request().postDataJSON();
    bodies.push(body);
    return answer(route, body, bodies.length);
  });
  return bodies;
}

/**
 * Log in for real, then let GET /me answer the login shape with `extra()` merged in (the new
 * fields email_verified and email_verification_required), and reload so the SPA starts from it.
 * The cookie and the CSRF token stay the real ones.
 */
async function loginWithMe(user, account, extra) {
  const { status, body } = await submitLogin(user, account);
  assert.equal(status, 200);
  await user.page.route(`${BASE}/api/v1/me`, (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const { user: userExtra = {}, ...top } = extra();
    return json(route, 200, { ...body, ...top, user: { ...body.user, ...userExtra } });
  });
  await user.page.reload();
  return body;
}

e2eTest('links from mails: token out of the address bar, one POST, the outcome shown', async (scene, t) => {
  const user = await scene.user('visitor');
  const { page } = user;
  const token = 'A'.repeat(43);

  await step(t, '#/verify-email: confirmed', async () => {
    const sent = await stubPost(page, '/auth/email/verify', (route) => json(route, 200, { verified: true }));
    await user.open(`/verify-email?token=${token}`);
    await waitForView(page, 'Confirm your e-mail address');
    assert.equal(page.url(), `${BASE}/#/verify-email`, 'the token left the address bar');
    const outcome = page.locator('#outcome');
    await outcome.waitFor();
    assert.match(await outcome.textContent(), /Your e-mail address is confirmed/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'outcome', 'the outcome takes focus');
    assert.deepEqual(sent, [{ token }]);
    assert.ok(!(await page.content()).includes(token), 'the token is not on the page');
    await page.locator('#login-link').click();
    await waitForView(page, 'Log in');
    await page.unroute(`${BASE}/api/v1/auth/email/verify`);
  });

  await step(t, '#/verify-email: an invalid link', async () => {
    await stubPost(page, '/auth/email/verify', (route) => apiError(route, 400, 'invalid_token', 'The link is not valid or has expired.'));
    await user.open(`/verify-email?token=${token}`);
    await waitForView(page, 'Confirm your e-mail address');
    assert.equal(page.url(), `${BASE}/#/verify-email`);
    await page.locator('#outcome').waitFor();
    assert.match(await page.locator('#outcome').textContent(), /This confirmation link can’t be used/);
    assert.equal(await page.locator('#outcome').getAttribute('role'), 'alert');
  });

  await step(t, '#/confirm-email: the new address, and an address taken meanwhile', async () => {
    const sent = await stubPost(page, '/auth/email/change/confirm', (route, body, n) => (n === 1
      ? json(route, 200, { email: 'new-address@example.com' })
      : apiError(route, 409, 'email_taken', 'An account with this e-mail already exists.')));
    await user.open(`/confirm-email?token=${token}`);
    await waitForView(page, 'Confirm your new e-mail address');
    assert.equal(page.url(), `${BASE}/#/confirm-email`);
    await page.locator('#new-address').waitFor();
    assert.equal(await page.locator('#new-address').textContent(), 'You log in with new-address@example.com from now on.');
    await user.open(`/confirm-email?token=${token}`);
    await page.locator('#outcome', { hasText: 'Your address was not changed' }).waitFor();
    assert.equal(sent.length, 2);
  });

  await step(t, '#/revert-email: nothing happens before the click; then the account is locked', async () => {
    const sent = await stubPost(page, '/auth/email/change/revert', (route) => json(route, 200, { reverted: true }));
    await user.open(`/revert-email?token=${token}`);
    await waitForView(page, 'Undo the e-mail change');
    assert.equal(page.url(), `${BASE}/#/revert-email`);
    const button = page.getByRole('button', { name: 'Restore my previous address' });
    await button.waitFor();
    assert.equal(sent.length, 0, 'opening the link alone sends nothing');
    await button.click();
    const outcome = page.locator('#outcome');
    await outcome.waitFor();
    const text = await outcome.textContent();
    assert.match(text, /Your previous address is back/);
    assert.match(text, /administrator of your organisation to re-enable it/);
    assert.match(text, /Forgot password\?/);
    assert.deepEqual(sent, [{ token }]);
  });

  await step(t, 'a page opened without its token (a reload) asks for the link again', async () => {
    await user.open('/confirm-email');
    await waitForView(page, 'Confirm your new e-mail address');
    assert.match(await page.locator('#outcome').textContent(), /Open the link from your e-mail/);
  });
});

e2eTest('unconfirmed address: the banner and “Resend the link” (sent, wait, already confirmed)', async (scene, t) => {
  const account = newAccount('vera');
  const user = await scene.user('vera');
  const { page } = user;
  let verified = false;

  await step(t, 'a signed-in user with an unconfirmed address sees the banner on app pages', async () => {
    await registerTenant(user, account);
    await loginWithMe(user, account, () => ({ email_verified: verified }));
    await waitForView(page, 'Memories');
    const banner = page.locator('#verify-banner');
    await banner.waitFor();
    assert.match(await banner.textContent(), new RegExp(`We sent a link to ${account.email.replace(/[.]/g, '\\.')}`));
  });

  await step(t, 'Resend: sent; then the wait of a 429, counted down on a disabled button', async () => {
    await stubPost(page, '/auth/email/verify/resend', (route, body, n) => {
      if (n === 1) return json(route, 202, { accepted: true });
      if (n === 2) return apiError(route, 429, 'rate_limited', 'Too many requests. Try again later.', { headers: { 'Retry-After': '120' } });
      verified = true;
      return apiError(route, 409, 'already_verified', 'The address is already confirmed.');
    });
    const resend = page.locator('#verify-banner').getByRole('button', { name: 'Resend the link' });
    const status = page.locator('#verify-banner .resend-status');
    await resend.click();
    await status.filter({ hasText: `We sent a new confirmation link to ${account.email}.` }).waitFor();
    await resend.click();
    await status.filter({ hasText: 'You can ask for another in 2 minutes.' }).waitFor();
    assert.equal(await resend.isDisabled(), true, 'the button waits');
    assert.match(await page.locator('#verify-banner .resend-wait').textContent(), /^Available again in [12]:\d\d$/);
  });

  await step(t, 'the banner keeps its wait across views; the security page shows “Not confirmed”', async () => {
    await page.locator('#site-nav').getByRole('link', { name: 'Security', exact: true }).click();
    await waitForView(page, 'Account and security');
    assert.equal(await page.locator('#email-status').textContent(), 'Not confirmed');
    assert.equal(await page.locator('#verify-banner').getByRole('button', { name: 'Resend the link' }).isDisabled(), true);
  });

  await step(t, 'already confirmed (409): the page asks GET /me again and the banner goes', async () => {
    await page.reload(); // a new page: no wait kept
    await waitForView(page, 'Account and security');
    await page.locator('#verify-banner').getByRole('button', { name: 'Resend the link' }).click();
    await page.locator('#verify-banner').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#email-status').count(), 1);
    await page.locator('#site-nav').getByRole('link', { name: 'Memories', exact: true }).click();
    await waitForView(page, 'Memories');
    assert.equal(await page.locator('#verify-banner').count(), 0);
  });
});

e2eTest('an organisation that requires a confirmed address: only the confirmation screen', async (scene, t) => {
  const account = newAccount('wren');
  const user = await scene.user('wren');
  const { page } = user;
  let required = true;

  await step(t, 'the verification-only screen, and nothing else', async () => {
    await registerTenant(user, account);
    await loginWithMe(user, account, () => ({
      email_verified: !required,
      ...(required ? { email_verification_required: true } : {}),
    }));
    await waitForView(page, 'Confirm your e-mail address to continue');
    assert.equal(new URL(page.url()).hash, '#/verify-required');
    assert.equal(await page.locator('#nav-links a').count(), 0, 'no navigation but log out');
    assert.equal(await page.locator('#verify-banner').count(), 0, 'no banner over the screen');
    assert.match(await page.locator('main').textContent(), new RegExp(`We sent a link to ${account.email.replace(/[.]/g, '\\.')}`));
    await user.open('/memories');
    await waitForView(page, 'Confirm your e-mail address to continue');
  });

  await step(t, '“I have confirmed it” before confirming: not yet; after: into the app', async () => {
    await page.getByRole('button', { name: 'I have confirmed it' }).click();
    await page.locator('.check-status', { hasText: 'Your address is not confirmed yet.' }).waitFor();
    required = false;
    await page.getByRole('button', { name: 'I have confirmed it' }).click();
    await waitForView(page, 'Memories');
    assert.equal(await flashText(page), 'Your e-mail address is confirmed. Welcome!');
  });

  await step(t, 'a 403 email_verification_required from any call leads back to the screen', async () => {
    await page.route(`${BASE}/api/v1/contexts*`, (route) => apiError(route, 403, 'email_verification_required',
      'Confirm your e-mail address first.'));
    await page.locator('#site-nav').getByRole('link', { name: 'Contexts', exact: true }).click();
    await waitForView(page, 'Confirm your e-mail address to continue');
    assert.equal(await page.locator('.notice-error').count(), 0, 'no second error message');
  });

  await step(t, 'log out from the screen', async () => {
    await page.locator('main').getByRole('button', { name: 'Log out' }).click();
    await waitForView(page, 'Log in');
  });
});

e2eTest('security page: change of e-mail address, with the re-authentication prompt', async (scene, t) => {
  const account = newAccount('yara');
  const user = await scene.user('yara');
  const { page } = user;
  const fresh = `new-${account.email}`;

  await step(t, 'register, log in, open the security page', async () => {
    await registerTenant(user, account);
    await loginWithMe(user, account, () => ({ email_verified: true }));
    await waitForView(page, 'Memories');
    await page.locator('#site-nav').getByRole('link', { name: 'Security', exact: true }).click();
    await waitForView(page, 'Account and security');
    assert.equal(await page.locator('#current-email').textContent(), account.email);
    assert.equal(await page.locator('#email-status').textContent(), 'Confirmed');
  });

  const sent = await stubPost(page, '/me/email', (route, body, n) => {
    if (n === 1) return apiError(route, 400, 'validation_failed', 'The request is not valid.', { fields: { new_email: 'is not a valid e-mail address' } });
    if (n === 2) return apiError(route, 403, 'step_up_required', 'Confirm it is you first.');
    return json(route, 202, { accepted: true, message: 'A confirmation link is on its way.' });
  });

  await step(t, 'an address the API refuses: the error beside the field', async () => {
    // Well-formed (the page checks the form itself), refused by the (stubbed) API.
    await page.getByLabel('New e-mail address').fill('someone@nowhere.invalid');
    await page.getByRole('button', { name: 'Change e-mail address' }).click();
    const error = page.locator('#email-form [data-field="new_email"] .field-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'New e-mail address is not a valid e-mail address.');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'new_email');
  });

  await step(t, 'the prompt asks for the password, then the link is on its way to the new address', async () => {
    await page.getByLabel('New e-mail address').fill(fresh);
    await page.getByRole('button', { name: 'Change e-mail address' }).click();
    await confirmIdentity(page, { password: account.password });
    const notice = page.locator('#email-change-sent');
    await notice.waitFor();
    assert.equal(await notice.textContent(), `We sent a confirmation link to ${fresh}. Your address changes when you open it.`);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'email-change-sent');
    assert.deepEqual(sent.map((b) => b.new_email), ['someone@nowhere.invalid', fresh, fresh]);
    assert.equal(await page.locator('#current-email').textContent(), account.email, 'the address is unchanged until confirmed');
  });
});
