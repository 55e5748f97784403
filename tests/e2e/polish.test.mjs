// Issue 12, polish and feedback: the outcome of an action is cleared on the next submit, the
// MFA badge follows at once, Escape cancels an inline rename, a context's buttons stay on one
// line on a 390 px phone, the audit log's time stays on one line, the focus ring has 3:1
// against its background in light and dark, and the copy slips are gone.
import assert from 'node:assert/strict';

import {
  BASE, confirmIdentity, e2eTest, login, newAccount, registerTenant, step, totpCode, waitForView,
} from './lib/harness.mjs';

const navLink = (page, name) => page.locator('#site-nav').getByRole('link', { name, exact: true });

/** WCAG contrast ratio of two "rgb(r, g, b)" colours. */
function contrast(a, b) {
  const lum = (rgb) => {
    const [r, g, bl] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

e2eTest('feedback at the action: cleared on each submit; the MFA badge says On at once', async (scene, t) => {
  const account = newAccount('fabian');
  const user = await scene.user('user');
  const { page } = user;
  await registerTenant(user, account);
  await login(user, account);

  await step(t, 'a success message goes when the next submit fails', async () => {
    await navLink(page, 'Contexts').click();
    await waitForView(page, 'Contexts');
    await page.getByLabel('New context name').fill('Garden');
    await page.getByRole('button', { name: 'Add context' }).click();
    await page.locator('#flash .flash-text', { hasText: 'Added “Garden”.' }).waitFor();
    await page.getByRole('button', { name: 'Add context' }).click();
    await page.locator('#context-form .field-error', { hasText: 'Name is required.' }).waitFor();
    assert.equal(await page.locator('#flash .flash-text').count(), 0, 'the old “Added” is gone');
  });

  await step(t, 'Escape cancels an inline rename', async () => {
    const row = page.locator('#context-list .item', { hasText: 'Garden' });
    await row.getByRole('button', { name: 'Rename Garden' }).click();
    const input = row.getByLabel('New name for Garden');
    await input.fill('Orchard');
    await input.press('Escape');
    await row.getByRole('button', { name: 'Rename Garden' }).waitFor();
    assert.equal(await page.locator('#context-list .item', { hasText: 'Orchard' }).count(), 0);
  });

  await step(t, 'turning on two-factor authentication: the badge says On while the codes show', async () => {
    await navLink(page, 'Security').click();
    await waitForView(page, 'Account and security');
    await page.locator('#mfa-status', { hasText: 'Off' }).waitFor();
    await page.locator('#start-totp').click();
    // Setup may ask to confirm the password first (the step-up window is short in the tests).
    await page.locator('#reauth-dialog, #totp-secret').first().waitFor();
    if (await page.locator('#reauth-dialog').count()) await confirmIdentity(page, { password: account.password });
    const secret = await page.locator('#totp-secret').getAttribute('data-secret');
    await page.getByLabel('Code from the app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.locator('#backup-codes').waitFor();
    assert.equal(await page.locator('#mfa-status').textContent(), 'On');
  });
});

e2eTest('polish: one-line context buttons at 390 px, one-line audit times, copy slips', async (scene, t) => {
  const account = newAccount('paula');
  const phone = await scene.user('phone', { viewport: { width: 390, height: 844 } });
  const { page } = phone;
  await registerTenant(phone, account);
  await login(phone, account);

  await step(t, 'a context’s buttons do not wrap on a 390 px screen', async () => {
    await phone.open('/contexts');
    await waitForView(page, 'Contexts');
    await page.getByLabel('New context name').fill('A rather long context name for a phone');
    await page.getByRole('button', { name: 'Add context' }).click();
    const actions = page.locator('#context-list .item .item-actions').first();
    await actions.waitFor();
    const tops = await actions.locator('.btn').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
    assert.equal(new Set(tops).size, 1, `buttons on one line: tops ${tops}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0);
  });

  await step(t, 'the audit log’s time column keeps each time on one line', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await phone.open('/audit');
    await waitForView(page, 'Audit log');
    const lines = await page.locator('#audit-list time').first().evaluate((el) => el.getClientRects().length);
    assert.equal(lines, 1);
  });

  await step(t, 'tags over the limit: “Tags must each be …”, not “Tags each tag must be …”', async () => {
    await page.route(`${BASE}/api/v1/memories`, (route) => (route.request().method() === 'POST'
      ? route.fulfill({
        status: 400, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'validation_failed', message: 'Some fields are invalid.', request_id: 'x', fields: { tags: 'each tag must be 1 to 40 characters' } } }),
      })
      : route.continue()));
    await phone.open('/memories/new');
    await waitForView(page, 'New memory');
    await page.getByLabel('Title').fill('Tagged');
    await page.getByLabel('Tags').fill('ok');
    await page.getByRole('button', { name: 'Save memory' }).click();
    const error = page.locator('[data-field="tags"] .field-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'Tags must each be 1 to 40 characters.');
  });

  await step(t, '“Memory not found” is said once', async () => {
    await phone.open('/memories/00000000-0000-7000-8000-000000000000');
    await waitForView(page, 'Memory not found');
    const text = await page.locator('main').textContent();
    assert.equal(text.split('Memory not found').length - 1, 1, text);
  });
});

for (const colorScheme of ['light', 'dark']) {
  e2eTest(`the focus ring has at least 3:1 against white and the page (${colorScheme})`, async (scene) => {
    const user = await scene.user('keyboard', { colorScheme });
    const { page } = user;
    await user.open('/login');
    await waitForView(page, 'Log in');
    await page.getByLabel('E-mail').focus();
    await page.keyboard.press('Tab');
    const colours = await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {
        ring: style.outlineColor,
        page: getComputedStyle(document.body).backgroundColor,
        card: getComputedStyle(el.closest('.card') || document.body).backgroundColor,
      };
    });
    const ratios = [contrast(colours.ring, colours.page), contrast(colours.ring, colours.card)];
    if (colorScheme === 'light') ratios.push(contrast(colours.ring, 'rgb(255, 255, 255)'));
    for (const r of ratios) assert.ok(r >= 3, `focus ring ${colours.ring}: ${ratios.map((x) => x.toFixed(2))}`);
  });
}
