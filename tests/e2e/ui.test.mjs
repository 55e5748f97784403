// What users expect of the pages themselves: field errors beside their field, the lockout
// message with its wait, the keyboard alone, a 360 px wide screen, titles and URLs that follow
// the view, the page asked for before logging in, an ended session.
import assert from 'node:assert/strict';

import {
  e2eTest, flashText, newAccount, registerTenant, step, submitLogin, waitForView, withOptionalStepUp,
} from './lib/harness.mjs';

/** Horizontal overflow of the page in CSS pixels (0 when nothing sticks out). */
function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

e2eTest('forms: field errors from the API, e-mail taken, lockout with the wait time', async (scene, t) => {
  const account = newAccount('fiona');
  const user = await scene.user('visitor');
  const { page } = user;

  await step(t, 'empty and too-short values: errors beside their fields', async () => {
    await user.open('/register');
    await waitForView(page, 'Create an organisation');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    for (const name of ['tenant_name', 'display_name', 'email', 'password']) {
      await page.locator(`[data-field="${name}"] .field-error`).waitFor();
    }
    await page.getByLabel('Organisation name').fill(account.tenant);
    await page.getByLabel('Your name').fill(account.name);
    await page.getByLabel('E-mail').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill('too short');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    const error = page.locator('[data-field="password"] .field-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'Password must be at least 15 characters.');
    const input = page.getByLabel('Password', { exact: true });
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.match(await input.getAttribute('aria-describedby'), /-error/);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'password', 'focus moves to the field');
    assert.equal(await page.locator('[data-field="email"] .field-error').count(), 0);
  });

  await step(t, 'a registered e-mail is refused with the API’s message', async () => {
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await waitForView(page, 'Memories');
    await page.locator('#logout-button').click();
    await waitForView(page, 'Log in');
    await user.open('/register');
    await waitForView(page, 'Create an organisation');
    await page.getByLabel('Organisation name').fill(`${account.tenant} two`);
    await page.getByLabel('Your name').fill(account.name);
    await page.getByLabel('E-mail').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.locator('#register-form .notice-error', { hasText: 'An account with this e-mail already exists.' }).waitFor();
  });

  await step(t, 'wrong passwords, then the lockout message with the wait from Retry-After', async () => {
    const victim = { ...newAccount('locked'), password: 'not-the-right-password-at-all' };
    await user.open('/login');
    await waitForView(page, 'Log in');
    let locked = null;
    for (let attempt = 1; attempt <= 8 && !locked; attempt += 1) {
      const { status } = await submitLogin(user, victim, { open: false });
      const notice = page.locator('#login-form .notice-error');
      await notice.waitFor();
      const text = await notice.textContent();
      if (status === 429) locked = text;
      else assert.equal(text, 'The e-mail or password is incorrect.');
    }
    assert.ok(locked, 'the e-mail is locked after repeated failures');
    // When to try again, in words and as a time of day, and the way out that needs no password.
    assert.match(locked, /^Too many attempts\. Try again in 15 minutes \(at \d{1,2}:\d{2}( [AP]M)?\)\./);
    await page.locator('#login-form .notice-error a[href="#/forgot"]', { hasText: 'Forgot password?' }).waitFor();
  });
});

e2eTest('keyboard only: skip link, focus order, visible focus, login with Enter', async (scene, t) => {
  const account = newAccount('kira');
  const user = await scene.user('keyboard');
  const { page } = user;
  await registerTenant(user, account);

  await step(t, 'the skip link is the first stop and moves focus to the page heading', async () => {
    await user.open('/login');
    await waitForView(page, 'Log in');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'page-title', 'a new view focuses its heading');
    await page.locator('#skip-link').focus();
    const box = await page.locator('#skip-link').boundingBox();
    assert.ok(box && box.y >= 0, 'the focused skip link is on screen');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'page-title');
  });

  await step(t, 'Tab order follows the form; focus is visible; Enter logs in', async () => {
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {
        label: el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent.trim(),
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      };
    });
    const order = [];
    for (let i = 0; i < 7; i += 1) {
      await page.keyboard.press('Tab');
      const f = await focused();
      order.push(f.label);
      assert.ok(f.outline, `"${f.label}" shows a visible focus ring`);
    }
    assert.deepEqual(order, ['E-mail', 'Password', 'Show', 'Forgot password?', 'Keep me logged in on this device', 'Log in',
      'Create an organisation']);
    await page.getByLabel('E-mail').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(account.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(account.password);
    await page.keyboard.press('Enter');
    await waitForView(page, 'Memories');
  });

  await step(t, 'a dialog keeps focus and Escape cancels it', async () => {
    await page.locator('#site-nav').getByRole('link', { name: 'Sessions', exact: true }).focus();
    await page.keyboard.press('Enter');
    await waitForView(page, 'Sessions');
    await page.locator('#session-list .item').first().waitFor();
    await page.locator('#site-nav').getByRole('link', { name: 'Memories', exact: true }).focus();
    await page.keyboard.press('Enter');
    await waitForView(page, 'Memories');
    await page.locator('#new-memory').focus();
    await page.keyboard.press('Enter');
    await waitForView(page, 'New memory');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Typed with the keyboard');
    await page.keyboard.press('Enter');
    await waitForView(page, 'Typed with the keyboard');
    await page.locator('#delete-memory').focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog.dialog[open]');
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.closest('dialog') !== null), true, 'focus is in the dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'delete-memory', 'focus returns to the button');
  });
});

e2eTest('every page at 360 px and 1280 px: no overflow, title and URL follow the view', async (scene, t) => {
  const account = newAccount('nina');
  const phone = await scene.user('phone', { viewport: { width: 360, height: 740 } });
  const { page } = phone;

  const loggedOut = [
    ['/login', 'Log in'],
    ['/register', 'Create an organisation'],
    ['/join?token=not-a-real-token', 'Join an organisation'],
    ['/forgot', 'Forgot your password?'],
    ['/reset', 'Choose a new password'],
    ['/reset?token=not-a-real-token', 'Choose a new password'],
    ['/no-such-page', 'Page not found'],
  ];
  await step(t, 'logged-out pages', async () => {
    for (const [route, title] of loggedOut) {
      await phone.open(route);
      await waitForView(page, title);
      assert.equal(await page.locator('#page-title').textContent(), title);
      assert.equal(await overflow(page), 0, `${route} fits 360 px`);
    }
  });

  await step(t, 'a page asked for before logging in opens after login', async () => {
    await registerTenant(phone, account);
    await phone.open('/sessions');
    await waitForView(page, 'Log in');
    const { status } = await submitLogin(phone, account, { open: false });
    assert.equal(status, 200);
    await waitForView(page, 'Sessions');
    assert.equal(new URL(page.url()).hash, '#/sessions');
  });

  const pages = [
    ['Memories', 'Memories', '#/memories'],
    ['Contexts', 'Contexts', '#/contexts'],
    ['Sessions', 'Sessions', '#/sessions'],
    ['Security', 'Account and security', '#/security'],
    ['Members', 'Members', '#/members'],
    ['Invitations', 'Invitations', '#/invitations'],
    ['Audit log', 'Audit log', '#/audit'],
    ['Settings', 'Organisation settings', '#/settings'],
  ];

  await step(t, 'at 360 px: the menu button opens the navigation; every view fits', async () => {
    assert.equal(await page.locator('#site-nav').isVisible(), false, 'the menu starts closed');
    for (const [link, title, hash] of pages) {
      const toggle = page.getByRole('button', { name: 'Menu' });
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await page.locator('#site-nav').getByRole('link', { name: link, exact: true }).click();
      await waitForView(page, title);
      assert.equal(new URL(page.url()).hash, hash);
      assert.equal(await page.locator('#site-nav').isVisible(), false, 'the menu closes after a choice');
      assert.equal(await overflow(page), 0, `${title} fits 360 px`);
    }
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#site-nav').isVisible(), false, 'Escape closes the menu');
  });

  await step(t, 'memory pages fit 360 px', async () => {
    await phone.open('/memories/new');
    await waitForView(page, 'New memory');
    assert.equal(await overflow(page), 0);
    await page.getByLabel('Title').fill('A rather long title that has to wrap nicely on a small phone screen');
    await page.getByLabel('Content').fill('Some content.\nWith a second line.');
    await page.getByLabel('Tags').fill('phone, narrow, screen');
    await page.getByRole('button', { name: 'Save memory' }).click();
    await waitForView(page, 'A rather long title that has to wrap nicely on a small phone screen');
    assert.equal(await overflow(page), 0);
    await page.locator('#edit-memory').click();
    await waitForView(page, 'Edit “A rather long title that has to wrap nicely on a small phone screen”');
    assert.equal(await overflow(page), 0);
  });

  await step(t, 'at 1280 px: tabs in the header, the current one marked', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.equal(await page.getByRole('button', { name: 'Menu' }).isVisible(), false);
    for (const [link, title] of pages) {
      await page.locator('#site-nav').getByRole('link', { name: link, exact: true }).click();
      await waitForView(page, title);
      assert.equal(await page.locator('#site-nav [aria-current="page"]').textContent(), link);
      assert.equal(await overflow(page), 0, `${title} fits 1280 px`);
    }
  });

  await step(t, 'change password: a wrong current password is marked beside its field', async () => {
    await page.locator('#site-nav').getByRole('link', { name: 'Security', exact: true }).click();
    await waitForView(page, 'Account and security');
    await page.getByLabel('Current password', { exact: true }).fill('this is not my password');
    await page.getByLabel('New password', { exact: true }).fill('an entirely new passphrase 2024');
    await page.getByRole('button', { name: 'Change password' }).click();
    const error = page.locator('#password-form [data-field="current_password"] .field-error');
    await withOptionalStepUp(page, error, { password: account.password });
    assert.equal(await error.textContent(), 'Current password is incorrect.');
  });

  await step(t, 'a session that ended on the server: back to login with “your session expired”', async () => {
    await phone.context.clearCookies();
    await page.locator('#site-nav').getByRole('link', { name: 'Contexts', exact: true }).click();
    await waitForView(page, 'Log in');
    assert.equal(await flashText(page), 'Your session expired. Please log in again.');
    // Logging in again returns to the page that was open.
    await submitLogin(phone, account, { open: false });
    await waitForView(page, 'Contexts');
  });
});
