// The main journey of one user, in a real browser against the real stack:
// register tenant A → log in → 25 memories in two contexts → page through them (each seen
// once) → edit and delete one → enrol TOTP with a code from oathtool → log out → log in with
// password + backup code → a second browser context logs in with password + TOTP → two
// sessions → revoke the other → the second context is sent to login at its next action.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS, BASE, SESSION_COOKIE, assertNoTokenVisibleToScript, confirmDialog, confirmIdentity,
  currentStep, e2eTest, flashText, newAccount, registerTenant, login, step, submitLogin, totpCode,
  siteCookies, waitForStepAfter, waitForView,
} from './lib/harness.mjs';

const MEMORIES = 25;
const PAGE_SIZE = 10;

function navLink(page, name) {
  return page.locator('#site-nav').getByRole('link', { name, exact: true });
}

/** Same-document navigation, as following a link in the app (no page load). */
async function go(page, route) {
  await page.evaluate((hash) => { window.location.hash = hash; }, `#${route}`);
}

/** Titles on every page of the memory list, following "Next page" to the end. */
async function readAllPages(page) {
  const pages = [];
  for (let n = 1; ; n += 1) {
    await page.locator('.pager-status', { hasText: `Page ${n}` }).or(page.locator('#memory-list .empty')).first().waitFor();
    await page.waitForFunction(() => !document.querySelector('#memory-list[aria-busy="true"]'));
    pages.push(await page.locator('#memory-list .memory-title').allTextContents());
    const next = page.getByRole('button', { name: 'Next page' });
    if (!(await next.count()) || await next.isDisabled()) break;
    await next.click();
    await page.locator('.pager-status', { hasText: `Page ${n + 1}` }).waitFor();
  }
  return pages;
}

e2eTest('journey: register, memories with paging, TOTP enrolment, two sessions, revoke', async (scene, t) => {
  const account = newAccount('alice');
  const alice = await scene.user('alice');
  const { page } = alice;
  const titles = [];
  const ids = new Map();
  let loggedInAt = 0;
  let totpSecret = null;
  let enrolStep = null;
  let backupCodes = [];

  await step(t, 'register tenant A', () => registerTenant(alice, account));

  await step(t, 'log in: HttpOnly __Host- cookie, no token visible to script', async () => {
    const answer = await login(alice, account);
    loggedInAt = Date.now();
    assert.equal(answer.user.email, account.email);
    assert.equal(answer.user.role, 'owner');
    assert.match(await flashText(page), /^Welcome back, Alice Person\.$/);
    // The __Host- cookie needs Secure; Chromium accepts it on http://127.0.0.1 (a secure context).
    await assertNoTokenVisibleToScript(alice, { csrfToken: answer.csrf_token });
    const display = await page.evaluate(() => window.localStorage.getItem('portcullis.display'));
    assert.deepEqual(JSON.parse(display), { display_name: account.name, email: account.email });
    // From here on, the whole journey of this page runs without a page load.
    await page.evaluate(() => { window.e2eNoReload = true; });
  });

  await step(t, 'create two contexts', async () => {
    await navLink(page, 'Contexts').click();
    await waitForView(page, 'Contexts');
    for (const name of ['Work', 'Home']) {
      await page.getByLabel('New context name').fill(name);
      await page.getByRole('button', { name: 'Add context' }).click();
      await page.locator('#context-list .item-title', { hasText: name }).waitFor();
    }
    assert.deepEqual((await page.locator('#context-list .item-title').allTextContents()).sort(), ['Home', 'Work']);
  });

  await step(t, `create ${MEMORIES} memories in the two contexts`, async () => {
    await navLink(page, 'Memories').click();
    await waitForView(page, 'Memories');
    for (let i = 1; i <= MEMORIES; i += 1) {
      const title = `Journey memory ${String(i).padStart(2, '0')}`;
      await page.locator('#new-memory').click();
      await waitForView(page, 'New memory');
      await page.getByLabel('Title').fill(title);
      await page.getByLabel('Content').fill(`Body of ${title}.\nWritten by the e2e journey.`);
      await page.getByLabel('Context').selectOption({ label: i % 2 ? 'Work' : 'Home' });
      await page.getByLabel('Tags').fill(i % 2 ? 'odd, journey' : 'even, journey');
      await page.getByRole('button', { name: 'Save memory' }).click();
      await waitForView(page, title);
      ids.set(title, decodeURIComponent(new URL(page.url()).hash.replace('#/memories/', '')));
      titles.push(title);
      await page.getByRole('link', { name: '← Back to memories' }).click();
      await waitForView(page, 'Memories');
    }
    assert.equal(ids.size, MEMORIES);
  });

  await step(t, 'page through the list: every memory exactly once, newest first; previous page', async () => {
    const pages = await readAllPages(page);
    assert.deepEqual(pages.map((p) => p.length), [PAGE_SIZE, PAGE_SIZE, MEMORIES - 2 * PAGE_SIZE]);
    const seen = pages.flat();
    assert.equal(new Set(seen).size, MEMORIES, 'no memory is shown twice');
    assert.deepEqual(seen, [...titles].reverse(), 'all memories, newest first');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.locator('.pager-status', { hasText: 'Page 2' }).waitFor();
    assert.deepEqual(await page.locator('#memory-list .memory-title').allTextContents(), pages[1]);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.locator('.pager-status', { hasText: 'Page 1' }).waitFor();
    assert.deepEqual(await page.locator('#memory-list .memory-title').allTextContents(), pages[0]);
    assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
  });

  await step(t, 'filter by context and by tag', async () => {
    await page.getByLabel('Context').selectOption({ label: 'Work' });
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: 'in Work' }).waitFor();
    const work = (await readAllPages(page)).flat();
    assert.equal(work.length, Math.ceil(MEMORIES / 2));
    assert.ok(work.every((title) => Number(title.slice(-2)) % 2 === 1), 'only Work (odd) memories');
    assert.match(new URL(page.url()).hash, /^#\/memories\?context=/, 'the URL follows the filter');
    await page.getByLabel('Context').selectOption({ label: 'All contexts' });
    await page.getByLabel('Tag', { exact: true }).fill('even');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list-status', { hasText: 'tagged “even”' }).waitFor();
    const even = (await readAllPages(page)).flat();
    assert.equal(even.length, Math.floor(MEMORIES / 2));
    await page.getByRole('button', { name: 'Clear' }).click();
    // "1–10 of 30" when the server counts, "1–10" when it does not.
    await page.locator('#memory-list-status', { hasText: /^1–10( of \d+)?$/ }).waitFor();
  });

  await step(t, 'view and edit one memory', async () => {
    const title = 'Journey memory 05';
    await go(page, `/memories/${ids.get(title)}`);
    await waitForView(page, title);
    assert.match(await page.locator('#memory-content').textContent(), /Body of Journey memory 05\./);
    await page.locator('#edit-memory').click();
    await waitForView(page, `Edit “${title}”`);
    await page.getByLabel('Title').fill('Journey memory 05 (edited)');
    await page.getByLabel('Content').fill('Edited in the browser.');
    await page.getByLabel('Tags').fill('odd, edited');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForView(page, 'Journey memory 05 (edited)');
    assert.equal(await page.locator('#memory-content').textContent(), 'Edited in the browser.');
    assert.deepEqual(await page.locator('.memory-detail .tag').allTextContents(), ['odd', 'edited']);
  });

  await step(t, 'delete one memory', async () => {
    const title = 'Journey memory 07';
    await go(page, `/memories/${ids.get(title)}`);
    await waitForView(page, title);
    await page.locator('#delete-memory').click();
    await confirmDialog(page, 'Delete memory');
    await waitForView(page, 'Memories');
    assert.equal(await flashText(page), `Deleted “${title}”.`);
    const all = (await readAllPages(page)).flat();
    assert.equal(all.length, MEMORIES - 1);
    assert.ok(!all.includes(title));
    assert.ok(all.includes('Journey memory 05 (edited)'));
    await go(page, `/memories/${ids.get(title)}`);
    await waitForView(page, 'Memory not found');
  });

  await step(t, 'screenshot of the memories page', async () => {
    await navLink(page, 'Memories').click();
    await waitForView(page, 'Memories');
    await page.locator('.pager-status', { hasText: 'Page 1' }).waitFor();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'memories.png'), fullPage: true });
  });

  await step(t, 'enrol TOTP with the QR code page and a code from oathtool', async () => {
    await navLink(page, 'Security').click();
    await waitForView(page, 'Account and security');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    // Setup needs an authentication within the step-up window: after the memories above,
    // the login is older than that, so the page asks for the password first.
    await page.locator('#reauth-dialog, #totp-secret').first().waitFor();
    if (await page.locator('#reauth-dialog').count()) {
      await confirmIdentity(page, { password: account.password });
    } else {
      assert.ok(Date.now() - loggedInAt < 20_000, 'the re-authentication prompt should have appeared');
    }
    const secretEl = page.locator('#totp-secret');
    await secretEl.waitFor();
    totpSecret = await secretEl.getAttribute('data-secret');
    assert.match(totpSecret, /^[A-Z2-7]{32}$/);
    assert.equal((await secretEl.textContent()).replace(/\s+/g, ''), totpSecret);
    // The QR code is real SVG in the page (DOMParser + importNode), with no style attribute.
    const qr = page.locator('#totp-setup svg.qr-code');
    assert.equal(await qr.count(), 1);
    assert.ok(await qr.locator('path').count() >= 1);
    assert.equal(await page.locator('#totp-setup svg [style], #totp-setup svg[style]').count(), 0);
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 150, `the QR code is shown large enough (${box && box.width}px)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'mfa-enrolment.png'), fullPage: true });

    enrolStep = currentStep();
    await page.getByLabel('Code from the app').fill(totpCode(totpSecret, enrolStep));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.locator('#backup-codes').waitFor();
    backupCodes = await page.locator('#backup-codes .backup-code-list code').allTextContents();
    assert.equal(backupCodes.length, 10);
    assert.equal(new Set(backupCodes).size, 10);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download as text file' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'portcullis-backup-codes.txt');
    const text = fs.readFileSync(await download.path(), 'utf8');
    for (const code of backupCodes) assert.ok(text.includes(code), 'the download holds every backup code');
    await page.getByRole('button', { name: 'I have saved my backup codes' }).click();
    await page.locator('#mfa-status', { hasText: 'On' }).waitFor();
    assert.match(await page.locator('#backup-codes-remaining').textContent(), /^10 backup codes left\./);
  });

  await step(t, 'log out', async () => {
    await page.locator('#logout-button').click();
    await waitForView(page, 'Log in');
    assert.equal(await flashText(page), 'You have logged out.');
    const cookies = await siteCookies(alice.context);
    assert.ok(!cookies.some((c) => c.name === SESSION_COOKIE), 'the session cookie is gone');
    assert.equal(await page.evaluate(() => window.e2eNoReload), true, 'no page load since the first login');
  });

  await step(t, 'log in again: password, then a backup code', async () => {
    const { status, body } = await submitLogin(alice, account, { open: false });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['csrf_token', 'mfa_required']);
    await waitForView(page, 'Two-factor authentication');
    assert.equal(new URL(page.url()).hash, '#/login/verify');
    await page.getByRole('button', { name: 'Use a backup code instead' }).click();
    await page.getByLabel('Backup code').fill(backupCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForView(page, 'Memories');
    assert.match(await flashText(page), /^Welcome back/);
    await page.locator('.pager-status', { hasText: 'Page 1' }).waitFor();
    assert.equal(await page.locator('#memory-list .memory-item').count(), PAGE_SIZE);
    await assertNoTokenVisibleToScript(alice);
  });

  const laptop = await scene.user('alice-laptop');

  await step(t, 'a second browser context logs in with password and a TOTP code', async () => {
    const { body } = await submitLogin(laptop, account);
    assert.equal(body.mfa_required, true);
    await waitForView(laptop.page, 'Two-factor authentication');
    // A step can't be used twice: wait (at most 30 s, once) until the enrolment's step is over.
    await waitForStepAfter(enrolStep);
    await laptop.page.getByLabel('Authentication code').fill(totpCode(totpSecret));
    await laptop.page.getByRole('button', { name: 'Verify' }).click();
    await waitForView(laptop.page, 'Memories');
  });

  await step(t, 'two sessions, the current one marked; revoke the other', async () => {
    await navLink(page, 'Sessions').click();
    await waitForView(page, 'Sessions');
    const rows = page.locator('#session-list .item');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.equal(await page.locator('#session-list .item[data-current="true"]').count(), 1);
    assert.equal(await page.locator('#session-list .item[data-current="true"] .current-badge').textContent(), 'This device');
    await page.locator('#session-list .item[data-current="false"] .revoke-session').click();
    await confirmDialog(page, 'Revoke session');
    await page.locator('#flash .flash-text', { hasText: 'Revoked the session' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#session-list .item').length === 1);
    assert.equal(await page.locator('#session-list .item[data-current="true"]').count(), 1);
  });

  await step(t, 'the revoked context is sent to login at its next action', async () => {
    await navLink(laptop.page, 'Contexts').click();
    await waitForView(laptop.page, 'Log in');
    // A server that tells revoked sessions apart says so (issue 12); an older one said expired.
    assert.match(await flashText(laptop.page),
      /^(Your session expired\. Please log in again\.|You were signed out from another device\. Please log in again\.)$/);
    // The first context is unaffected.
    await navLink(page, 'Contexts').click();
    await waitForView(page, 'Contexts');
  });
});
