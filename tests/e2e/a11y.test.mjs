// Accessibility: axe-core (npm, pinned in package-lock.json) on every page of the SPA, in the
// light and the dark colour scheme, with no WCAG 2.0/2.1/2.2 A or AA violation. The CSP allows
// no script from the test (addScriptTag is refused), so axe's source is evaluated through the
// DevTools protocol with page.evaluate, which the page's CSP does not govern.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

import {
  BASE, e2eTest, newAccount, registerTenant, step, submitLogin, waitForView,
} from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

const LOGGED_OUT = [
  ['/login', 'Log in'],
  ['/register', 'Create an organisation'],
  ['/forgot', 'Forgot your password?'],
  ['/reset', 'Choose a new password'],
  ['/join', 'Join an organisation'],
  ['/verify-email', 'Confirm your e-mail address'],
  ['/no-such-page', 'Page not found'],
];
const LOGGED_IN = [
  ['/memories', 'Memories'],
  ['/memories/new', 'New memory'],
  ['/contexts', 'Contexts'],
  ['/security', 'Account and security'],
  ['/sessions', 'Sessions'],
  ['/members', 'Members'],
  ['/invitations', 'Invitations'],
  ['/audit', 'Audit log'],
  ['/settings', 'Organisation settings'],
  ['/no-such-page', 'Page not found'],
];

/** axe's A/AA violations on the page as it is now: ["rule: target, …"]. */
async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const result = await page.evaluate((tags) => window.axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  }), TAGS);
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 5)
    .map((n) => `${n.target.join(' ')}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)}]` : ''}`)
    .join('; ')}`);
}

async function visit(user, route, title, { reload = false } = {}) {
  await user.open(route);
  // A change of the fragment alone does not load the page again (and ask GET /me again).
  if (reload) await user.page.reload();
  await waitForView(user.page, title);
  // Let transitions and the flash settle before measuring colours.
  await user.page.waitForTimeout(300);
  return (await violations(user.page)).map((v) => `${route}: ${v}`);
}

for (const colorScheme of ['light', 'dark']) {
  e2eTest(`axe-core: no WCAG A/AA violation on any page (${colorScheme})`, async (scene, t) => {
    const account = newAccount(`axe${colorScheme}`);
    const user = await scene.user(`${colorScheme} visitor`, { colorScheme });
    const found = [];

    await step(t, 'logged-out pages', async () => {
      for (const [route, title] of LOGGED_OUT) found.push(...await visit(user, route, title));
    });

    let loginShape = null;
    await step(t, 'the pages of a signed-in owner', async () => {
      await registerTenant(user, account);
      const { status, body } = await submitLogin(user, account);
      assert.equal(status, 200);
      loginShape = body;
      await waitForView(user.page, 'Memories');
      for (const [route, title] of LOGGED_IN) found.push(...await visit(user, route, title));
    });

    // States this account is not in, from GET /me answers (the rest of the stack stays real):
    // a member on an admin page, the banner of an unconfirmed address, the verification screen.
    const asMe = async (extra) => {
      await user.page.unroute(`${BASE}/api/v1/me`);
      await user.page.route(`${BASE}/api/v1/me`, (route) => route.fulfill({
        status: 200, contentType: 'application/json',
        body: JSON.stringify({ ...loginShape, ...extra.top, user: { ...loginShape.user, ...extra.user } }),
      }));
    };
    await step(t, 'no access, the confirmation banner, the verification-only screen', async () => {
      await asMe({ user: { role: 'member', email_verified: true }, top: {} });
      found.push(...await visit(user, '/members', 'No access', { reload: true }));
      await asMe({ user: { email_verified: false }, top: {} });
      found.push(...(await visit(user, '/memories', 'Memories', { reload: true })).map((v) => `banner ${v}`));
      await user.page.locator('#verify-banner').waitFor();
      await asMe({ user: { email_verified: false }, top: { email_verification_required: true } });
      found.push(...await visit(user, '/verify-required', 'Confirm your e-mail address to continue', { reload: true }));
      await user.page.unroute(`${BASE}/api/v1/me`);
    });

    assert.deepEqual(found, [], `axe found violations:\n${found.join('\n')}`);
  });
}
