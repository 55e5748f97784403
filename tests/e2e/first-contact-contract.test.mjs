// Issue 12, the SPA side against the API contract: the answers the backend gains with issue 12
// (GET /policy, POST /memories/search, POST /auth/invitation, 403 account_suspended, 401
// session_revoked, every field error at once) are stubbed here with page.route, so these tests
// check what the SPA does with them whether or not this tree's server has them yet. The same
// flows against the real server are in first-contact.test.mjs.
import assert from 'node:assert/strict';

import {
  BASE, e2eTest, flashText, login, newAccount, registerTenant, step, waitForView,
} from './lib/harness.mjs';

const POLICY = {
  password: { min_length: 15, max_length: 128 },
  email: { max_length: 254 },
  display_name: { max_length: 100 },
  tenant_name: { max_length: 100 },
  memory: { title_max_length: 200, content_max_bytes: 32768, max_tags: 20, tag_max_length: 40 },
  context: { name_max_length: 100 },
};

function json(route, status, body, headers = {}) {
  return route.fulfill({ status, contentType: 'application/json', headers, body: JSON.stringify(body) });
}

function apiError(route, status, code, message, { headers = {}, fields = null } = {}) {
  return json(route, status, { error: { code, message, request_id: 'stubbed', ...(fields ? { fields } : {}) } }, headers);
}

/** Answer METHOD path with answer(route, body, n); returns the bodies the page sent. */
async function stub(page, method, path, answer) {
  const bodies = [];
  await page.route((url) => url.href.startsWith(`${BASE}/api/v1${path}`), (route) => {
    if (route.request().method() !== method) return route.continue();
    const body = method === 'GET' ? null : route.request().postDataJSON();
    bodies.push(body);
    return answer(route, body, bodies.length);
  });
  return bodies;
}

const memory = (id, title, extra = {}) => ({
  id, context_id: null, title, content: `Body of ${title}`, tags: [], created_by: 'someone',
  created_at: '2026-11-30T10:00:00.000Z', updated_at: '2026-11-30T10:00:00.000Z', ...extra,
});

e2eTest('contract: checks from GET /policy, then every field error of one request at once', async (scene, t) => {
  const user = await scene.user('visitor');
  const { page } = user;
  await stub(page, 'GET', '/policy', (route) => json(route, 200, POLICY));
  const sent = await stub(page, 'POST', '/auth/register', (route) => apiError(route, 400, 'validation_failed',
    'Some fields are invalid.', {
      fields: {
        tenant_name: 'must be at most 100 characters',
        email: 'is not a valid e-mail address',
        password: 'is too common or too easy to guess',
      },
    }));

  await step(t, 'three bad fields: three errors and no request', async () => {
    await user.open('/register');
    await waitForView(page, 'Create an organisation');
    await page.getByLabel('Organisation name').fill('Policy Org');
    await page.getByLabel('E-mail').fill('not-an-address');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#register-form .field-error').length === 3);
    assert.deepEqual(await page.locator('#register-form .field-error').allTextContents(), [
      'Your name is required.',
      'E-mail must be a valid e-mail address.',
      'Password must be at least 15 characters.',
    ]);
    assert.equal(sent.length, 0);
  });

  await step(t, 'the server’s three field errors of one request, each at its field', async () => {
    await page.getByLabel('Your name').fill('Policy Person');
    await page.getByLabel('E-mail').fill('policy@example.com');
    await page.getByLabel('Password', { exact: true }).fill('a long enough passphrase here');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#register-form .field-error').length === 3);
    assert.equal(sent.length, 1, 'one request');
    assert.deepEqual(await page.locator('#register-form [aria-invalid="true"]').evaluateAll((els) => els.map((e) => e.name)),
      ['tenant_name', 'email', 'password']);
    assert.equal(await page.locator('[data-field="password"] .field-error').textContent(),
      'Password is too common or too easy to guess.');
  });
});

e2eTest('contract: search answers with totals; tag chips filter; the count in the UI language', async (scene, t) => {
  const account = newAccount('sonja');
  const user = await scene.user('searcher');
  const { page } = user;
  await registerTenant(user, account);
  await login(user, account);
  const searches = await stub(page, 'POST', '/memories/search', (route, body) => {
    if (body.q === 'many') {
      return json(route, 200, {
        data: Array.from({ length: 10 }, (_, i) => memory(`m${i}`, `Many ${i}`)),
        page: { has_more: true, next_cursor: 'c2', total: 1000, total_is_lower_bound: true },
      });
    }
    return json(route, 200, {
      data: [memory('m1', 'Quarterly plan', { tags: ['Travel'] })],
      page: { has_more: false, total: 1, total_is_lower_bound: false },
    });
  });

  await step(t, 'a search is a POST with q; the status says “1–1 of 1”', async () => {
    await page.getByLabel('Search', { exact: true }).fill('quart');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: '1–1 of 1 · matching “quart”' }).waitFor();
    assert.deepEqual(searches.at(-1), { q: 'quart', limit: 10 });
    assert.match(new URL(page.url()).hash, /[?&]q=quart/);
  });

  await step(t, 'more than 1 000', async () => {
    await page.getByLabel('Search', { exact: true }).fill('many');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: '1–10 of more than 1,000' }).waitFor();
  });

  await step(t, 'a tag chip is a filter link', async () => {
    await page.getByLabel('Search', { exact: true }).fill('quart');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list .tag-link', { hasText: 'Travel' }).click();
    await page.waitForFunction(() => /tag=Travel/.test(window.location.hash));
    await waitForView(page, 'Memories');
    assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), 'Travel');
    // This tree's server holds no such memory: the list says what it filtered by.
    await page.locator('#memory-list', { hasText: 'tagged “Travel”' }).waitFor();
  });

  await step(t, 'German: “1–10 von mehr als 1.000”', async () => {
    await page.locator('#language-select').selectOption('de');
    await waitForView(page, 'Notizen');
    await page.getByLabel('Suche', { exact: true }).fill('many');
    await page.getByRole('button', { name: 'Suchen', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: '1–10 von mehr als 1.000' }).waitFor();
  });
});

e2eTest('contract: the join page looks the invitation up and shows its address read-only', async (scene) => {
  const user = await scene.user('invitee');
  const { page } = user;
  const lookups = await stub(page, 'POST', '/auth/invitation', (route, body) => (body.token === 'good-token'
    ? json(route, 200, { email: 'invited@example.com', tenant_name: 'Acme', role: 'member', expires_at: '2026-12-08T00:00:00.000Z' })
    : apiError(route, 400, 'invalid_token', 'The invitation is not valid.')));
  await page.goto(`${BASE}/#/join?token=good-token`);
  await waitForView(page, 'Join an organisation');
  assert.equal(new URL(page.url()).hash, '#/join', 'the token left the address bar');
  assert.deepEqual(lookups, [{ token: 'good-token' }]);
  const address = page.getByLabel('E-mail');
  assert.equal(await address.inputValue(), 'invited@example.com');
  assert.notEqual(await address.getAttribute('readonly'), null);
  await page.locator('#invitation-ready', { hasText: 'You are invited to “Acme” as member.' }).waitFor();
  assert.equal(await page.getByLabel('Invitation link or code').isHidden(), true);

  await page.goto(`${BASE}/#/join?token=used-token`);
  await waitForView(page, 'Join an organisation');
  await page.locator('#invitation-invalid').waitFor();
  assert.equal(await page.getByLabel('E-mail').getAttribute('readonly'), null, 'typed when the lookup fails');
});

e2eTest('contract: suspended, lockout, revoked: each said plainly', async (scene, t) => {
  const account = newAccount('stella');
  const user = await scene.user('member');
  const { page } = user;

  await step(t, 'a suspended account (right password): told to contact an admin', async () => {
    await user.open('/login');
    await waitForView(page, 'Log in');
    await page.route(`${BASE}/api/v1/auth/login`, (route) => apiError(route, 403, 'account_suspended', 'The account is suspended.'));
    await page.getByLabel('E-mail').fill('someone@example.com');
    await page.getByLabel('Password', { exact: true }).fill('whatever the password is');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#login-form .notice-error',
      { hasText: 'Your account is suspended. Contact an administrator of your organisation.' }).waitFor();
    await page.unroute(`${BASE}/api/v1/auth/login`);
  });

  await step(t, 'a lockout: when to try again, and “Forgot password?”', async () => {
    await page.route(`${BASE}/api/v1/auth/login`, (route) => apiError(route, 429, 'rate_limited',
      'Too many failed attempts. Try again later.', { headers: { 'Retry-After': '900' } }));
    // The refusal before emptied the password field.
    await page.getByLabel('Password', { exact: true }).fill('whatever the password is');
    await page.getByRole('button', { name: 'Log in' }).click();
    const notice = page.locator('#login-form .notice-error');
    await notice.locator('a[href="#/forgot"]', { hasText: 'Forgot password?' }).waitFor();
    assert.match(await notice.textContent(), /^Too many attempts\. Try again in 15 minutes \(at \d{1,2}:\d{2}( [AP]M)?\)\./);
    await page.locator('#language-select').selectOption('de');
    await waitForView(page, 'Anmelden');
    await page.getByLabel('E-Mail-Adresse').fill('someone@example.com');
    await page.getByLabel('Passwort', { exact: true }).fill('whatever the password is');
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.locator('#login-form .notice-error', { hasText: /Versuchen Sie es in 15 Minuten erneut \(um \d{2}:\d{2} Uhr\)\./ }).waitFor();
    await page.locator('#language-select').selectOption('en');
    await page.unroute(`${BASE}/api/v1/auth/login`);
  });

  await step(t, 'a session revoked elsewhere: “signed out from another device”, not “expired”', async () => {
    await registerTenant(user, account);
    await login(user, account);
    await page.route(`${BASE}/api/v1/contexts?limit=100`, (route) => apiError(route, 401, 'session_revoked',
      'You were signed out from another device.'));
    await page.locator('#site-nav').getByRole('link', { name: 'Contexts', exact: true }).click();
    await waitForView(page, 'Log in');
    assert.equal(await flashText(page), 'You were signed out from another device. Please log in again.');
  });
});
