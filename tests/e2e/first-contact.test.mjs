// Issue 12, "What users meet first": the words and states a new user meets. Registering signs
// in and greets with "Welcome"; a form reports every bad field at once; search finds by content
// word and title prefix within the tenant only; tag chips filter; the join page shows the
// invited address; a suspended member and a session revoked elsewhere are told so plainly; the
// session list pins this browser's session; the German UI speaks German on the memories and
// sessions pages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  BASE, confirmDialog, e2eTest, flashText, login, newAccount, registerTenant, step,
  submitLogin, waitForView, withOptionalStepUp,
} from './lib/harness.mjs';

const htmlRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../nginx/html');

/** A catalogue module of the SPA (an ES module outside any package: loaded from its text). */
async function catalogue(lang) {
  const text = fs.readFileSync(path.join(htmlRoot, 'js', 'i18n', `${lang}.js`), 'utf8');
  return (await import(`data:text/javascript,${encodeURIComponent(text)}`)).default;
}

/**
 * The server has an endpoint issue 12 adds (anything but 404/405): a missing one fails the test
 * with the endpoint's name.
 */
async function needs(t, method, path, body = undefined) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(response.status !== 404 && response.status !== 405,
    `${method} /api/v1${path} is missing from the server (${response.status})`);
  return true;
}

const navLink = (page, name) => page.locator('#site-nav').getByRole('link', { name, exact: true });

async function writeMemory(page, { title, content = '', tags = '' }) {
  await page.locator('#new-memory').click();
  await waitForView(page, 'New memory');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Content').fill(content);
  await page.getByLabel('Tags').fill(tags);
  await page.getByRole('button', { name: 'Save memory' }).click();
  await waitForView(page, title);
  await navLink(page, 'Memories').click();
  await waitForView(page, 'Memories');
}

async function search(page, q) {
  await page.getByLabel('Search', { exact: true }).fill(q);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/memories/search'));
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const response = await answer;
  assert.equal(response.status(), 200, `search answered ${response.status()}`);
  await page.waitForFunction(() => !document.querySelector('#memory-list[aria-busy="true"]'));
  return page.locator('#memory-list .memory-title').allTextContents();
}

e2eTest('register: signed in at once and greeted with “Welcome” and the first things to do', async (scene) => {
  const account = newAccount('wendy');
  const user = await scene.user('newcomer');
  const { page } = user;
  const logins = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/login')) logins.push(r.method()); });
  await registerTenant(user, account, { stay: true });
  assert.deepEqual(logins, ['POST'], 'the SPA logs in once, with what was typed');
  const welcome = page.locator('#memory-list #welcome');
  await welcome.waitFor();
  assert.equal(await welcome.locator('h2').textContent(), 'Welcome');
  for (const id of ['welcome-context', 'welcome-memory', 'welcome-invite', 'welcome-mfa']) {
    await welcome.locator(`#${id}`).waitFor();
  }
  assert.equal(await page.locator('#account-name .account-user').textContent(), account.name);
  // The first action leads where it says.
  await welcome.locator('#welcome-context').click();
  await waitForView(page, 'Contexts');
});

e2eTest('one pass: a form with three bad fields shows three errors after at most one request', async (scene, t) => {
  if (!await needs(t, 'GET', '/policy')) return;
  const user = await scene.user('visitor');
  const { page } = user;
  const sent = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/register')) sent.push(r.url()); });
  await user.open('/register');
  await waitForView(page, 'Create an organisation');
  await page.getByLabel('Organisation name').fill('Three Errors Ltd');
  await page.getByLabel('Your name').fill('');
  await page.getByLabel('E-mail').fill('not-an-address');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#register-form .field-error').length >= 3);
  const errors = await page.locator('#register-form .field-error').allTextContents();
  assert.equal(errors.length, 3, `errors: ${JSON.stringify(errors)}`);
  assert.deepEqual(await page.locator('#register-form [aria-invalid="true"]').evaluateAll((els) => els.map((e) => e.name)),
    ['display_name', 'email', 'password']);
  assert.ok(sent.length <= 1, `requests to /auth/register: ${sent.length}`);
  // The numbers are the server's (GET /api/v1/policy).
  const policy = await page.evaluate(async () => (await fetch('/api/v1/policy', { headers: { Accept: 'application/json' } })).json());
  const min = policy.password.min_length;
  assert.ok(errors.includes(`Password must be at least ${min} characters.`), `errors: ${JSON.stringify(errors)}`);
  // Each submit starts clean: fixing all three leaves no old message behind.
  await page.getByLabel('Your name').fill('Three Person');
  await page.getByLabel('E-mail').fill('still-not-an-address');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#register-form .field-error').length === 2);
});

e2eTest('search: a word of the content, a title prefix, tag chips; never another tenant’s', async (scene, t) => {
  if (!await needs(t, 'POST', '/memories/search', { q: 'x' })) return;
  const a = newAccount('sally');
  const b = newAccount('sven');
  const anna = await scene.user('tenant A');
  const boris = await scene.user('tenant B');

  await step(t, 'B writes a memory with the same word', async () => {
    await registerTenant(boris, b);
    await login(boris, b);
    await writeMemory(boris.page, { title: 'Marmalade of tenant B', content: 'The marmalade budget of B.' });
  });

  await step(t, 'A writes three memories', async () => {
    await registerTenant(anna, a);
    await login(anna, a);
    await writeMemory(anna.page, { title: 'Quarterly zephyr plan', content: 'Discuss the marmalade budget.', tags: 'Travel, plans' });
    await writeMemory(anna.page, { title: 'Shopping list', content: 'Bread and cheese.', tags: 'home' });
    await writeMemory(anna.page, { title: 'Another note', content: 'Nothing in common.', tags: 'travel' });
  });

  await step(t, 'a word of the content finds A’s memory and not B’s', async () => {
    const titles = await search(anna.page, 'marmalade');
    assert.deepEqual(titles, ['Quarterly zephyr plan']);
    assert.match(await anna.page.locator('#memory-list-status').textContent(), /^1–1( of 1)? · matching “marmalade”$/);
  });

  await step(t, 'a title prefix finds it too', async () => {
    assert.deepEqual(await search(anna.page, 'Quart'), ['Quarterly zephyr plan']);
    assert.deepEqual(await search(anna.page, 'Tenant B'), []);
    await anna.page.locator('#memory-list .empty', { hasText: 'No memories matching “Tenant B”.' }).waitFor();
  });

  await step(t, 'a tag chip filters by its tag, case-insensitively', async () => {
    const { page } = anna;
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('#memory-list-status', { hasText: /^1–3( of 3)?$/ }).waitFor();
    // One memory is tagged "Travel", another "travel": the chip of either finds both.
    await page.locator('#memory-list').getByRole('link', { name: 'Travel', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: 'tagged “Travel”' }).waitFor();
    assert.deepEqual((await page.locator('#memory-list .memory-title').allTextContents()).sort(),
      ['Another note', 'Quarterly zephyr plan']);
  });
});

e2eTest('invitation, suspension, revocation: the join page shows the address; plain words for each state', async (scene, t) => {
  if (!await needs(t, 'POST', '/auth/invitation', { token: 'x' })) return;
  const owner = newAccount('olga');
  const member = newAccount('max');
  const o = await scene.user('owner');
  const m = await scene.user('member');
  const m2 = await scene.user('member elsewhere');
  let joinLink = null;

  await step(t, 'the owner invites a member', async () => {
    await registerTenant(o, owner);
    await login(o, owner);
    const { page } = o;
    await navLink(page, 'Invitations').click();
    await waitForView(page, 'Invitations');
    await page.getByLabel('E-mail', { exact: true }).fill(member.email);
    await page.getByLabel('Role').selectOption('member');
    await page.getByRole('button', { name: 'Create invitation' }).click();
    await page.locator('#join-link').waitFor();
    joinLink = await page.locator('#join-link').inputValue();
  });

  await step(t, 'the join page shows the invited address, read-only, and no token in the address bar', async () => {
    const { page } = m;
    const lookups = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/invitation')) lookups.push(r.postDataJSON()); });
    await page.goto(joinLink);
    await waitForView(page, 'Join an organisation');
    assert.equal(new URL(page.url()).hash, '#/join', 'the token left the address bar');
    assert.equal(lookups.length, 1, 'the invitation is looked up by POST');
    const address = page.getByLabel('E-mail');
    assert.equal(await address.inputValue(), member.email);
    assert.notEqual(await address.getAttribute('readonly'), null, 'the address is read-only');
    await page.locator('#invitation-ready', { hasText: owner.tenant }).waitFor();
    await page.getByLabel('Your name').fill(member.name);
    await page.getByLabel('Password', { exact: true }).fill(member.password);
    await page.getByRole('button', { name: 'Join' }).click();
    await waitForView(page, 'Memories');
  });

  await step(t, 'a session revoked from another device says so', async () => {
    await login(m2, member);
    await navLink(m2.page, 'Sessions').click();
    await waitForView(m2.page, 'Sessions');
    await m2.page.locator('#revoke-others').click();
    await confirmDialog(m2.page, 'Log out other devices');
    await withOptionalStepUp(m2.page, m2.page.locator('#flash .flash-text', { hasText: /^Logged out/ }),
      { password: member.password });
    await navLink(m.page, 'Contexts').click();
    await waitForView(m.page, 'Log in');
    assert.equal(await flashText(m.page), 'You were signed out from another device. Please log in again.');
  });

  await step(t, 'a suspended member with the right password is told so; a wrong password stays generic', async () => {
    const { page } = o;
    await navLink(page, 'Members').click();
    await waitForView(page, 'Members');
    const row = page.locator(`#member-list .member[data-email="${member.email}"]`);
    await row.getByRole('button', { name: /^Suspend/ }).click();
    await confirmDialog(page, 'Suspend');
    await withOptionalStepUp(page, page.locator('#flash .flash-text', { hasText: 'was suspended' }),
      { password: owner.password });
    const wrong = await submitLogin(m, { ...member, password: `${member.password}x` });
    assert.equal(wrong.status, 401);
    await m.page.locator('#login-form .notice-error', { hasText: 'The e-mail or password is incorrect.' }).waitFor();
    const right = await submitLogin(m, member, { open: false });
    assert.equal(right.status, 403);
    assert.equal(right.body.error.code, 'account_suspended');
    await m.page.locator('#login-form .notice-error',
      { hasText: 'Your account is suspended. Contact an administrator of your organisation.' }).waitFor();
  });
});

e2eTest('sessions: this browser’s session is pinned first, with browser, OS and address', async (scene) => {
  const account = newAccount('pia');
  const first = await scene.user('first browser');
  const second = await scene.user('second browser', {
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  });
  await registerTenant(first, account);
  await login(first, account);
  await login(second, account);
  const { page } = first;
  await navLink(page, 'Sessions').click();
  await waitForView(page, 'Sessions');
  const rows = page.locator('#session-list .item');
  await page.waitForFunction(() => document.querySelectorAll('#session-list .item').length >= 2);
  assert.equal(await rows.first().getAttribute('data-current'), 'true', 'the current session comes first');
  assert.equal(await rows.first().locator('.current-badge').textContent(), 'This device');
  for (const row of await rows.all()) {
    assert.match(await row.locator('.session-device').textContent(), /^.+ on .+$/, 'browser on OS');
    assert.match(await row.locator('.session-ip').textContent(), /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
  }
});

e2eTest('German: the browser’s language, or the one picked; no English words on memories and sessions', async (scene, t) => {
  const en = await catalogue('en');
  const de = await catalogue('de');
  const account = newAccount('greta');
  // A user whose browser speaks German.
  const user = await scene.user('German browser', { locale: 'de-DE' });
  const { page } = user;
  await registerTenant(await scene.user('setup'), account);

  /** Visible text and labels of the page (user data excluded by the caller). */
  const pageTexts = () => page.evaluate(() => {
    const texts = [document.body.innerText];
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
      for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) texts.push(el.getAttribute(a));
    }
    return texts.join('\n');
  });
  /** English catalogue strings (those that differ from German) found in `text`. */
  const englishIn = (text) => {
    const found = [];
    for (const [key, value] of Object.entries(en)) {
      if (typeof value !== 'string' || value === de[key]) continue;
      // The fixed parts between placeholders, long enough to be words and not names.
      for (const part of value.split(/\{[a-z_]+\}/)) {
        const words = part.trim();
        if (words.length >= 4 && /[a-z]{3}/i.test(words) && text.includes(words)) found.push(`${key}: “${words}”`);
      }
    }
    return found;
  };

  await step(t, 'the browser speaks German: so does the login page', async () => {
    await user.open('/login');
    await waitForView(page, de['title.login']);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  });

  await step(t, 'memories page', async () => {
    await page.getByLabel(de['field.email']).fill(account.email);
    await page.getByLabel(de['field.password'], { exact: true }).fill(account.password);
    await page.getByRole('button', { name: de['auth.login'], exact: true }).click();
    await waitForView(page, de['title.memories']);
    await page.locator('#memory-list #welcome').waitFor();
    const found = englishIn((await pageTexts()).replaceAll(account.tenant, '').replaceAll(account.name, '').replaceAll(account.email, ''));
    assert.deepEqual(found, []);
  });

  await step(t, 'sessions page: German words, German dates', async () => {
    await navLink(page, de['nav.sessions']).click();
    await waitForView(page, de['title.sessions']);
    await page.locator('#session-list .item').first().waitFor();
    const text = (await pageTexts()).replaceAll(account.tenant, '').replaceAll(account.name, '').replaceAll(account.email, '');
    assert.deepEqual(englishIn(text), []);
    assert.match(text, new RegExp(de['sessions.last_active']));
    assert.ok(!/\b(ago|minutes?|hours?|just now)\b/.test(text), 'relative times are German too');
  });

  await step(t, 'the picked language wins over the browser’s and survives a reload', async () => {
    await page.locator('#language-select').selectOption('en');
    await waitForView(page, en['title.sessions']);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.reload();
    await waitForView(page, en['title.sessions']);
    await page.locator('#language-select').selectOption('');
    await waitForView(page, de['title.sessions']);
  });

  await step(t, 'a picked language outlives a logout (whose Clear-Site-Data empties storage)', async () => {
    await page.locator('#language-select').selectOption('en');
    await waitForView(page, en['title.sessions']);
    await page.locator('#logout-button').click();
    await waitForView(page, en['title.login']);
    assert.equal(await page.evaluate(() => localStorage.getItem('portcullis.language')), 'en');
    await page.reload();
    await waitForView(page, en['title.login']);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  });
});
