// Shared machinery of the end-to-end tests: the browser, one "user" per browser context with
// its console log, failure artifacts, the checks every test ends with (no uncaught error, no
// CSP violation, nothing fetched from another origin), TOTP codes from oathtool, and the few
// UI steps most tests share (register, log in).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const chromiumPath = process.env.PORTCULLIS_E2E_CHROMIUM || '/usr/bin/chromium';
export const BASE = (process.env.PORTCULLIS_E2E_BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ARTIFACTS = process.env.PORTCULLIS_E2E_ARTIFACTS || path.join(repoRoot, 'build', 'e2e');
export const STEP_UP_SECONDS = Number(process.env.PORTCULLIS_E2E_STEP_UP_SECONDS || 900);
export const SESSION_COOKIE = '__Host-portcullis';

// This machine has no network but the package mirrors: without the background-networking
// switches Chromium keeps trying to reach Google's services. Root needs --no-sandbox.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/**
 * Debian's Chromium, headless. playwright-core's launch() always starts it with a new, empty
 * --user-data-dir of its own (a temp dir it deletes on close), so no profile is shared between
 * runs or tests.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: process.env.PORTCULLIS_E2E_HEADED !== '1',
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
}

export function newAccount(prefix) {
  const id = unique(prefix);
  return {
    email: `${id}@example.com`,
    // Long, not on the block list, no context word (tenant, e-mail, name).
    password: `Lantern-${crypto.randomBytes(6).toString('hex')}-Quartz-Meadow`,
    name: `${prefix[0].toUpperCase()}${prefix.slice(1)} Person`,
    tenant: `${prefix[0].toUpperCase()}${prefix.slice(1)} Org ${crypto.randomBytes(2).toString('hex')}`,
  };
}

// --- users: one browser context each, with its own console log ----------------------------------------

export class User {
  constructor(name, context, page) {
    this.name = name;
    this.context = context;
    this.page = page;
    this.log = [];
  }

  record(entry) {
    this.log.push({ at: new Date().toISOString(), ...entry });
  }

  /** Open a view by its hash route, as typing the address would (a full page load). */
  async open(route) {
    await this.page.goto(`${BASE}/#${route}`);
  }

  /** Problems the page reported: uncaught errors, CSP violations, other-origin requests. */
  problems() {
    return this.log.filter((e) => e.type === 'pageerror'
      || e.type === 'external-request'
      || /Content Security Policy|CSP violation/i.test(e.text)
      // Chromium logs every 4xx answer of fetch(); the API answers 4xx on purpose (401 before
      // login, 404 for another tenant's memory, 400 for a wrong code …).
      || (e.type === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e.text)));
  }

  logText() {
    const lines = this.log.map((e) => `${e.at} [${e.type}] ${e.text}${e.url ? ` (${e.url})` : ''}`);
    return `## ${this.name} — ${this.page.isClosed() ? 'closed' : this.page.url()}\n${lines.join('\n') || '(no console messages)'}\n`;
  }
}

/** Tracks the users of one test, for artifacts on failure and the checks at its end. */
export class Scene {
  constructor(browser, testName) {
    this.browser = browser;
    this.testName = testName;
    this.users = [];
  }

  /**
   * A browser context of its own; userAgent: the User-Agent it sends (default: Chromium's);
   * locale: the browser's language (the SPA follows it); colorScheme: light or dark.
   */
  async user(name, {
    viewport = { width: 1280, height: 900 }, permissions = [], userAgent = undefined, locale = 'en-GB',
    colorScheme = 'light',
  } = {}) {
    const context = await this.browser.newContext({
      viewport,
      locale,
      colorScheme,
      timezoneId: 'UTC',
      acceptDownloads: true,
      permissions,
      userAgent,
    });
    context.setDefaultTimeout(15_000);
    // Report CSP violations from the page itself as well (Chromium also logs them).
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || '?'}:${e.lineNumber || 0}`);
      });
    });
    const page = await context.newPage();
    const user = new User(name, context, page);
    // Nothing may be fetched from another origin: such requests are refused and reported.
    await context.route((url) => !url.href.startsWith(`${BASE}/`) && !['blob:', 'data:', 'about:'].includes(url.protocol),
      (route) => {
        user.record({ type: 'external-request', text: `request to another origin: ${route.request().url()}` });
        return route.abort();
      });
    const watch = (p) => {
      p.on('console', (msg) => user.record({ type: msg.type(), text: msg.text(), url: msg.location().url }));
      p.on('pageerror', (error) => user.record({ type: 'pageerror', text: error.stack || String(error) }));
    };
    watch(page);
    context.on('page', (p) => { if (p !== page) watch(p); });
    this.users.push(user);
    return user;
  }

  async saveFailure() {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const base = slug(this.testName);
    const logs = [];
    for (const [i, user] of this.users.entries()) {
      const suffix = i === 0 ? '' : `-${slug(user.name)}`;
      if (!user.page.isClosed()) {
        try {
          await user.page.screenshot({ path: path.join(ARTIFACTS, `failure-${base}${suffix}.png`), fullPage: true, timeout: 10_000 });
        } catch (error) {
          logs.push(`(screenshot of ${user.name} failed: ${error.message})`);
        }
      }
      logs.push(user.logText());
    }
    fs.writeFileSync(path.join(ARTIFACTS, `console-${base}.log`), `${logs.join('\n')}\n`);
  }

  assertClean() {
    for (const user of this.users) {
      assert.deepEqual(user.problems(), [], `${user.name}: the page reported problems:\n${user.logText()}`);
    }
  }

  async close() {
    for (const user of this.users) await user.context.close().catch(() => {});
  }
}

/**
 * A test with its own browser: fn(scene, t). On failure: a screenshot of every page and the
 * console logs under build/e2e/. At the end: no page had an uncaught error, a CSP violation or
 * a request to another origin.
 */
export function e2eTest(name, fn, options = {}) {
  return test(name, { timeout: 180_000, ...options }, async (t) => {
    const browser = await launchBrowser();
    const scene = new Scene(browser, name);
    try {
      await fn(scene, t);
      scene.assertClean();
    } catch (error) {
      await scene.saveFailure().catch((e) => console.error(`saving failure artifacts failed: ${e.message}`));
      throw error;
    } finally {
      await scene.close();
      await browser.close();
    }
  });
}

/** A named step of a longer test, reported as a subtest; a failed step ends the test. */
export async function step(t, name, fn) {
  let failure = null;
  await t.test(name, async () => {
    try {
      await fn();
    } catch (error) {
      failure = error;
      throw error;
    }
  });
  if (failure) throw failure;
}

// --- waiting for views ------------------------------------------------------------------------------------

/** Wait until the SPA shows the view with this title and has finished loading it. */
export async function waitForView(page, title, { timeout = 15_000 } = {}) {
  try {
    await page.waitForFunction((t) => document.title === `${t} · portcullis`
      && !document.querySelector('main[aria-busy="true"]'), title, { timeout });
  } catch (error) {
    throw new Error(`view "${title}" did not appear (title is "${await page.title()}", url ${page.url()}): ${error.message}`);
  }
}

export async function flashText(page) {
  const flash = page.locator('#flash .flash-text');
  await flash.waitFor({ state: 'visible' });
  return (await flash.textContent()).trim();
}

// --- shared UI steps ------------------------------------------------------------------------------------------

/**
 * Create an organisation through the register form. The SPA then signs the new owner in with
 * what was typed (issue 12) and lands on the memories page; unless `stay` is set, this logs out
 * again, so a test goes on from the login form as before (the e-mail offered there).
 */
export async function registerTenant(user, account, { stay = false } = {}) {
  const { page } = user;
  await user.open('/register');
  await waitForView(page, 'Create an organisation');
  await page.getByLabel('Organisation name').fill(account.tenant);
  await page.getByLabel('Your name').fill(account.name);
  await page.getByLabel('E-mail').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await waitForView(page, 'Memories');
  assert.match(await flashText(page), /is ready\./);
  if (stay) return;
  // Logging out clears the site's storage (Clear-Site-Data), the remembered e-mail with it. On a
  // narrow screen the button sits in the menu.
  if (await page.locator('#logout-button').isVisible()) {
    await page.locator('#logout-button').click();
  } else {
    await page.locator('#menu-toggle').click();
    await page.locator('#nav-logout-button').click();
  }
  await waitForView(page, 'Log in');
}

/**
 * Fill in and send the login form; returns the parsed answer of POST /auth/login. The view
 * that follows is the caller's to wait for (memories, second factor, enrolment).
 */
export async function submitLogin(user, account, { open = true } = {}) {
  const { page } = user;
  if (open) {
    await user.open('/login');
    await waitForView(page, 'Log in');
  }
  await page.getByLabel('E-mail').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
  await page.getByRole('button', { name: 'Log in' }).click();
  const response = await answer;
  return { status: response.status(), body: await response.json() };
}

export async function login(user, account) {
  const { status, body } = await submitLogin(user, account);
  assert.equal(status, 200, `login answered ${status}: ${JSON.stringify(body)}`);
  await waitForView(user.page, 'Memories');
  return body;
}

/** Answer the re-authentication prompt if (and only if) it is open, or wait for it. */
export async function confirmIdentity(page, { password = null, code = null }) {
  const dialog = page.locator('#reauth-dialog');
  await dialog.waitFor({ state: 'visible' });
  if (code) await dialog.getByLabel('Authentication code').fill(code);
  else await dialog.getByLabel('Password', { exact: true }).fill(password);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/**
 * Wait for `done` (a locator); if the re-authentication prompt opens first (the step-up window
 * passed), answer it on the way. Returns whether the prompt appeared.
 */
export async function withOptionalStepUp(page, done, credentials) {
  const dialog = page.locator('#reauth-dialog');
  await done.or(dialog).first().waitFor();
  if (await dialog.isVisible()) {
    await confirmIdentity(page, credentials);
    await done.first().waitFor();
    return true;
  }
  return false;
}

/** Click the confirm button of the open confirmation dialog. */
export async function confirmDialog(page, buttonName) {
  const dialog = page.locator('dialog.dialog[open]');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: buttonName, exact: true }).click();
}

/**
 * Every cookie the browser context holds for the site under test. Not `context.cookies(BASE)`:
 * some playwright-core releases leave Secure cookies out for an http:// URL other than
 * localhost, which would hide the session cookie (and make an absence check pass vacuously).
 */
export async function siteCookies(context) {
  const host = new URL(BASE).hostname;
  return (await context.cookies()).filter((c) => c.domain === host);
}

// --- security checks ---------------------------------------------------------------------------------------

/**
 * The session cookie is HttpOnly (invisible to script), Secure, SameSite=Strict, host-only, and
 * no token is readable by the page's script: not in document.cookie, localStorage or
 * sessionStorage.
 */
export async function assertNoTokenVisibleToScript(user, { csrfToken = null } = {}) {
  const cookies = await siteCookies(user.context);
  const session = cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(session, `the browser holds the ${SESSION_COOKIE} cookie (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
  assert.equal(session.httpOnly, true, 'session cookie is HttpOnly');
  assert.equal(session.secure, true, 'session cookie is Secure');
  assert.equal(session.sameSite, 'Strict', 'session cookie is SameSite=Strict');
  assert.equal(session.path, '/');
  const seen = await user.page.evaluate(() => ({
    cookie: document.cookie,
    local: Object.entries(window.localStorage),
    session: Object.entries(window.sessionStorage),
  }));
  assert.ok(!seen.cookie.includes(SESSION_COOKIE), `document.cookie shows no session cookie: "${seen.cookie}"`);
  assert.ok(!seen.cookie.includes(session.value), 'document.cookie does not hold the session token');
  const secrets = [session.value, csrfToken].filter(Boolean);
  for (const [area, entries] of [['localStorage', seen.local], ['sessionStorage', seen.session]]) {
    for (const [key, value] of entries) {
      assert.doesNotMatch(key, /token|csrf|session|secret/i, `${area} key "${key}" looks like a token`);
      for (const secret of secrets) {
        assert.ok(!value.includes(secret), `${area}["${key}"] holds a token`);
      }
    }
  }
  return { seen, sessionCookie: session };
}

// --- TOTP (RFC 6238) with oathtool, the independent reference ------------------------------------------

export const currentStep = (at = Date.now()) => Math.floor(at / 30_000);

function oathtoolTime(stepNumber) {
  const d = new Date(stepNumber * 30_000 + 1_000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** The 6-digit code of a base32 secret for one 30 s step (default: now), from oathtool. */
export function totpCode(secret, stepNumber = currentStep()) {
  return execFileSync('oathtool', ['--totp', '-b', '--now', oathtoolTime(stepNumber), secret.replace(/\s+/g, '')],
    { encoding: 'utf8' }).trim();
}

/** Wait until the 30 s step is later than `usedStep` (a used step can't be used again). */
export async function waitForStepAfter(usedStep) {
  const next = (usedStep + 1) * 30_000;
  const wait = next - Date.now();
  if (wait > 0) await sleep(wait + 250);
}

// --- mail: the messages the loopback SMTP sink received (run.sh starts it and the deliverer) -------

export const MAIL_DIR = process.env.PORTCULLIS_E2E_MAIL_DIR || '';

/** Header block → [{name (lower case), value (unfolded)}]. */
function parseHeaders(block) {
  const headers = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1].value += ` ${line.trim()}`;
    else if (line.includes(':')) {
      const i = line.indexOf(':');
      headers.push({ name: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).trim() });
    }
  }
  return headers;
}

/** A header parameter: param('multipart/alternative; boundary="x"', 'boundary') → "x". */
function headerParam(value, name) {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value || '');
  return m ? (m[1] ?? m[2]) : null;
}

/** RFC 2047 encoded words (=?utf-8?Q?…?= and =?utf-8?B?…?=) in a header value. */
function decodeWords(value) {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=(\s+(?==\?))?/g, (_, charset, kind, text) => {
    const bytes = kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (x, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    return new TextDecoder(charset).decode(bytes);
  });
}

/** A body in its Content-Transfer-Encoding → text in its charset. */
function decodeBody(body, encoding, charset) {
  const enc = String(encoding || '7bit').toLowerCase();
  let bytes;
  if (enc === 'base64') {
    bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  } else if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    bytes = Buffer.from(soft.replace(/=([0-9A-Fa-f]{2})/g, (x, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  } else {
    bytes = Buffer.from(body, 'latin1');
  }
  return new TextDecoder(charset || 'utf-8').decode(bytes);
}

/** One MIME entity → its leaf parts [{type, text}], multiparts walked depth first. */
function mimeParts(entity) {
  const split = entity.search(/\r?\n\r?\n/);
  const headerBlock = split === -1 ? entity : entity.slice(0, split);
  const body = split === -1 ? '' : entity.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = parseHeaders(headerBlock);
  const get = (name) => (headers.find((x) => x.name === name) || {}).value || '';
  const contentType = get('content-type') || 'text/plain; charset=us-ascii';
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = headerParam(contentType, 'boundary');
    assert.ok(boundary, `a ${type} part without a boundary`);
    // Lines between "--boundary" delimiters; "--boundary--" ends the parts (an epilogue follows).
    const delimiter = `--${boundary}`;
    const pieces = [];
    let current = null;
    for (const line of body.split(/\r?\n/)) {
      const bare = line.trimEnd();
      if (bare === delimiter || bare === `${delimiter}--`) {
        if (current) pieces.push(current.join('\r\n'));
        current = bare === delimiter ? [] : null;
        if (!current) break;
      } else if (current) {
        current.push(line);
      }
    }
    const parts = [];
    for (const piece of pieces) parts.push(...mimeParts(piece));
    return parts;
  }
  return [{ type, text: decodeBody(body, get('content-transfer-encoding'), headerParam(contentType, 'charset')) }];
}

/**
 * A message as the sink stored it: {to (the envelope recipients), subject, headers, text (the
 * decoded text/plain part), html, raw}.
 */
export function parseMail(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = parseHeaders(raw.slice(0, split));
  const get = (name) => (headers.find((x) => x.name === name) || {}).value || '';
  const to = [...get('x-sink-rcpt-to').matchAll(/<([^>]*)>/g)].map((m) => m[1].toLowerCase());
  const parts = mimeParts(raw);
  const text = parts.find((p) => p.type === 'text/plain');
  const html = parts.find((p) => p.type === 'text/html');
  return {
    to, subject: decodeWords(get('subject')), headers, raw,
    text: text ? text.text : '', html: html ? html.text : '',
  };
}

/** Every message received so far for `address`, oldest first. */
export function mailsTo(address) {
  assert.ok(MAIL_DIR, 'PORTCULLIS_E2E_MAIL_DIR is not set: run the tests through tests/e2e/run.sh');
  const want = address.toLowerCase();
  return fs.readdirSync(MAIL_DIR)
    .filter((name) => name.endsWith('.msg'))
    .map((name) => ({ name, mtime: fs.statSync(path.join(MAIL_DIR, name)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name))
    .map(({ name }) => parseMail(fs.readFileSync(path.join(MAIL_DIR, name), 'latin1')))
    .filter((m) => m.to.includes(want));
}

/**
 * Wait for a message to `address` whose subject matches `subject` (and whose text part matches
 * `text`, when given) and which is not among the `after` such messages seen before (default:
 * none). Returns it.
 */
export async function waitForMail(address, { subject = /./, text = null, after = 0, timeout = 30_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = mailsTo(address).filter((m) => subject.test(m.subject) && (!text || text.test(m.text)));
    if (found.length > after) return found[after];
    if (Date.now() > deadline) {
      throw new Error(`no mail to ${address} with subject ${subject}${text ? ` and text ${text}` : ''} within ${timeout} ms `
        + `(${mailsTo(address).length} other message(s) to that address)`);
    }
    await sleep(200);
  }
}

/** The first link in a mail's text part that starts with `prefix` (e.g. `${BASE}/#/reset?token=`). */
export function linkIn(mail, prefix) {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}[A-Za-z0-9_\\-]+`).exec(mail.text);
  assert.ok(m, `the mail "${mail.subject}" holds a link starting with ${prefix}:\n${mail.text}`);
  return m[0];
}
