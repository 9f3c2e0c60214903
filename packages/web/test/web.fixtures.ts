import { createHash } from 'node:crypto';

import type { FormatPlugin } from '@stowage/core';
import { buildTar, ensureWebBuilt, launchBrowser, startTestServer, testModes, type TestServer } from '@stowage/testkit';
import type { Browser, BrowserContext, ConsoleMessage, Locator, Page } from 'playwright-core';

/** One real server (listening) and one headless chromium for a test file. */
export interface WebEnv {
  s: TestServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function startWebEnv(formats: FormatPlugin[]): Promise<WebEnv> {
  // The server reads packages/web/dist when it starts: build it first when the sources changed.
  await ensureWebBuilt();
  const [s, browser] = await Promise.all([startTestServer({ formats, mode: testModes()[0], listen: true }), launchBrowser()]);
  return {
    s,
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await s.close();
    },
  };
}

/**
 * What went wrong in a page that a user would not see in its text: uncaught errors, and the
 * console's CSP refusals (the server's policy forbids inline script and style).
 */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('pageerror', (err: Error) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  return { problems };
}

/** A fresh browser profile (cookies and all) with one page. */
export async function newPage(browser: Browser, baseURL: string, opts: { permissions?: string[] } = {}) {
  const context: BrowserContext = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(10_000);
  if (opts.permissions) await context.grantPermissions(opts.permissions, { origin: baseURL });
  const page = await context.newPage();
  const watch = watchPage(page);
  return { context, page, problems: watch.problems };
}

/** Signs in through the sign-in page, as a user would; waits for the header's Sign out button. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto('/-/sign_in');
  await page.getByLabel('Personal access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.site-header').getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A generic package upload through the API (in process: the fastest real write path). */
export async function uploadGeneric(
  s: TestServer,
  project: number,
  token: string,
  name: string,
  version: string,
  file: string,
  body: Buffer,
) {
  const res = await s.api.inject({
    method: 'PUT',
    url: `/api/v4/projects/${project}/packages/generic/${name}/${version}/${file}`,
    token,
    payload: body,
  });
  if (res.status !== 201) throw new Error(`upload ${name}/${version}/${file}: ${res.status} ${res.body}`);
}

/** The package rows of a project (as root), newest first. */
export async function packagesOf(s: TestServer, project: number, query = ''): Promise<{ id: number; name: string; version: string }[]> {
  return s.api.root('GET', `/api/v4/projects/${project}/packages?per_page=100&order_by=created_at&sort=desc${query ? `&${query}` : ''}`);
}

/** What `npm publish` sends for a one-file package (index.js holding `index`). */
export function npmPublishBody(name: string, version: string, index: string, manifest: Record<string, unknown> = {}) {
  const full = { name, version, main: 'index.js', ...manifest };
  const tgz = buildTar({ 'package/package.json': JSON.stringify(full), 'package/index.js': index }, { gzip: true });
  const fileName = `${name}-${version}.tgz`;
  return {
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...full,
        _id: `${name}@${version}`,
        dist: {
          shasum: createHash('sha1').update(tgz).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
          tarball: `http://x/${fileName}`,
        },
      },
    },
    _attachments: { [fileName]: { content_type: 'application/octet-stream', data: tgz.toString('base64'), length: tgz.length } },
  };
}

export async function publishNpm(s: TestServer, project: number, token: string, name: string, version: string, index: string) {
  const res = await s.api.inject({
    method: 'PUT',
    url: `/api/v4/projects/${project}/packages/npm/${name.replace('/', '%2f')}`,
    token,
    payload: npmPublishBody(name, version, index),
  });
  if (res.status >= 300) throw new Error(`npm publish ${name}@${version}: ${res.status} ${res.body}`);
}

/** Resolves once `locator` shows `text` (playwright's auto-waiting, without @playwright/test). */
export async function expectText(locator: Locator, text: string) {
  await locator.filter({ hasText: text }).first().waitFor();
}

/** Resolves once exactly `n` elements match the CSS `selector` (waitForFunction: the page's own polling). */
export async function expectCount(page: Page, selector: string, n: number, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([sel, want]) => (globalThis as any).document.querySelectorAll(sel).length === want,
      [selector, n] as const,
      {
        timeout,
      },
    );
  } catch (err) {
    const count = await page.locator(selector).count();
    throw new Error(`expected ${n} × ${selector} on ${page.url()}, found ${count}: ${String(err)}`);
  }
}
