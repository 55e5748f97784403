// Accessibility: axe-core (npm, pinned in package-lock.json) on every page of the SPA, in the
// light and the dark colour scheme, with no WCAG 2.0/2.1/2.2 A or AA violation. The CSP allows
// no script from the test (addScriptTag is refused), so axe's source is evaluated through the
// DevTools protocol with page.evaluate, which the page's CSP does not govern.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

import {
  e2eTest, login, newAccount, registerTenant, step, waitForView,
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

async function visit(user, route, title) {
  await user.open(route);
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

    await step(t, 'the pages of a signed-in owner', async () => {
      await registerTenant(user, account);
      await login(user, account);
      for (const [route, title] of LOGGED_IN) found.push(...await visit(user, route, title));
    });

    assert.deepEqual(found, [], `axe found violations:\n${found.join('\n')}`);
  });
}
