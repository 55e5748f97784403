// Smoke launch: can playwright-core start this machine's Chromium headless and render a page?
// run.sh calls this before starting the stack, so a missing or broken browser fails fast with
// a clear message instead of as a timeout inside a test.
import { launchBrowser, chromiumPath } from './harness.mjs';

const started = Date.now();
let browser;
try {
  browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>smoke</title><p id="ok">ok</p>');
  const text = await page.textContent('#ok');
  if (text !== 'ok') throw new Error(`unexpected page text: ${text}`);
  console.log(`Chromium ${browser.version()} (${chromiumPath}) launched headless in ${Date.now() - started} ms`);
} catch (error) {
  console.error(`Chromium smoke launch failed: ${error && error.message ? error.message : error}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
