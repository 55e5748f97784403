// Tenant isolation seen from the browser: tenant B, in its own browser context, never sees
// tenant A's memories or contexts — not in its lists, and not when it opens A's memory URL
// directly (the API answers 404, never 403, and the page says "not found").
import assert from 'node:assert/strict';

import {
  e2eTest, login, newAccount, registerTenant, step, waitForView,
} from './lib/harness.mjs';

e2eTest('tenant isolation: B never sees A’s memories, also by direct URL', async (scene, t) => {
  const accountA = newAccount('anna');
  const accountB = newAccount('boris');
  const anna = await scene.user('tenant-a');
  const boris = await scene.user('tenant-b');
  const secretTitle = `Anna's secret plan ${Date.now()}`;
  const secretBody = 'The launch code is 0000 — only tenant A may read this.';
  let memoryId = null;
  let contextId = null;

  await step(t, 'tenant A writes a memory in its own context', async () => {
    await registerTenant(anna, accountA);
    await login(anna, accountA);
    const { page } = anna;
    await anna.open('/contexts');
    await waitForView(page, 'Contexts');
    await page.getByLabel('New context name').fill('Anna private');
    await page.getByRole('button', { name: 'Add context' }).click();
    const row = page.locator('#context-list .item', { hasText: 'Anna private' });
    await row.waitFor();
    contextId = await row.getAttribute('data-id');
    await anna.open('/memories/new');
    await waitForView(page, 'New memory');
    await page.getByLabel('Title').fill(secretTitle);
    await page.getByLabel('Content').fill(secretBody);
    await page.getByLabel('Context').selectOption({ label: 'Anna private' });
    await page.getByLabel('Tags').fill('secret');
    await page.getByRole('button', { name: 'Save memory' }).click();
    await waitForView(page, secretTitle);
    memoryId = decodeURIComponent(new URL(page.url()).hash.replace('#/memories/', ''));
    assert.match(memoryId, /^[0-9a-f-]{36}$/);
  });

  await step(t, 'tenant B logs in and sees no memory and no context of A', async () => {
    await registerTenant(boris, accountB);
    await login(boris, accountB);
    const { page } = boris;
    // A new organisation (no memory, no context) is greeted with the first things to do.
    await page.locator('#memory-list #welcome').waitFor();
    assert.ok(!(await page.content()).includes(secretTitle));
    await page.getByLabel('Tag', { exact: true }).fill('secret');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#memory-list .empty', { hasText: 'No memories tagged “secret”' }).waitFor();
    await boris.open('/contexts');
    await waitForView(page, 'Contexts');
    await page.locator('#context-list .empty').waitFor();
    assert.ok(!(await page.locator('main').textContent()).includes('Anna private'));
  });

  await step(t, 'B opens A’s memory URL directly: not found, nothing of A on the page', async () => {
    const { page } = boris;
    for (const route of [`/memories/${memoryId}`, `/memories/${memoryId}/edit`]) {
      await boris.open(route);
      await waitForView(page, 'Memory not found');
      await page.locator('#memory-not-found').waitFor();
      const text = await page.locator('body').textContent();
      assert.ok(!text.includes(secretTitle), `${route}: A's title is not on B's page`);
      assert.ok(!text.includes(secretBody), `${route}: A's content is not on B's page`);
    }
    // A's context as a filter shows B's own (empty) list, never A's memories.
    await boris.open(`/memories?context=${contextId}`);
    await waitForView(page, 'Memories');
    // (B has no memory and no context yet: the empty list is the welcome state.)
    await page.locator('#memory-list .empty, #memory-list #welcome').first().waitFor();
    // And the API itself, called from B's page with B's cookie: 404, not 403.
    const answers = await page.evaluate(async ({ id, ctx }) => {
      const status = async (url) => (await fetch(url, { credentials: 'include' })).status;
      return {
        memory: await status(`/api/v1/memories/${id}`),
        context: await status(`/api/v1/contexts/${ctx}`),
        list: await status(`/api/v1/memories?context_id=${ctx}`),
      };
    }, { id: memoryId, ctx: contextId });
    assert.deepEqual(answers, { memory: 404, context: 404, list: 404 });
  });

  await step(t, 'A still reads its memory', async () => {
    await anna.open(`/memories/${memoryId}`);
    await waitForView(anna.page, secretTitle);
    assert.equal(await anna.page.locator('#memory-content').textContent(), secretBody);
  });
});
