import { genericFormat } from '@stowage/format-generic';
import { npmFormat } from '@stowage/format-npm';
import { saveScreenshot, type TestUser } from '@stowage/testkit';

import { expectCount, expectText, newPage, packagesOf, publishNpm, signIn, startWebEnv, uploadGeneric, type WebEnv } from './web.fixtures';

const ROWS = 'table.packages tbody tr';

// The web UI in a real browser against a real server: signing in and out, following links,
// filtering and searching, what an anonymous visitor sees, and screenshots of every page.
describe('web UI: browsing', () => {
  let env: WebEnv;
  let alice: TestUser;
  let tools: { id: number; path_with_namespace: string };

  beforeAll(async () => {
    env = await startWebEnv([genericFormat, npmFormat]);
    const { s } = env;
    const acme = await s.api.createGroup('acme', { visibility: 'private' });
    tools = await s.api.createProject('tools', { namespaceId: acme.id, visibility: 'private' });
    const opensrc = await s.api.createGroup('opensrc', { visibility: 'public' });
    const pub = await s.api.createProject('pub', { namespaceId: opensrc.id, visibility: 'public' });
    alice = await s.api.createUser('alice');
    await s.api.addMember({ group: acme.id }, alice.id, 40);
    // Oldest first, so "newest first" lists are predictable.
    await uploadGeneric(s, tools.id, s.rootToken, 'hello', '1.0.0', 'hello.txt', Buffer.from('hello 1.0.0\n'));
    await uploadGeneric(s, tools.id, s.rootToken, 'hello', '1.1.0', 'hello.txt', Buffer.from('hello 1.1.0\n'));
    await uploadGeneric(s, tools.id, s.rootToken, 'world', '2.0.0', 'world.bin', Buffer.from('world\n'));
    await publishNpm(s, tools.id, s.rootToken, '@acme/widget', '1.0.0', 'module.exports = 1;\n');
    await uploadGeneric(s, pub.id, s.rootToken, 'public-tool', '0.1.0', 'tool.sh', Buffer.from('#!/bin/sh\necho hi\n'));
  });
  afterAll(() => env?.close());

  it('signs in with a token, follows links from home to a project and a package, and signs out', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await page.goto('/');
      await page.locator('.site-header').getByRole('link', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/-/sign_in');

      // A wrong token: the API's 401 as text, and still signed out.
      await page.getByLabel('Personal access token').fill('stwpat-not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: '401 Unauthorized' }).waitFor();

      await page.getByLabel('Personal access token').fill(alice.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const header = page.locator('.site-header');
      await header.getByRole('button', { name: 'Sign out' }).waitFor();
      await expectText(header.locator('.user-name'), 'alice');
      // Back where the sign-in link was followed from, the home page, now with alice's projects.
      expect(new URL(page.url()).pathname).toBe('/');
      // The token was sent once; nothing of it stays in the page's storage.
      const stored = await page.evaluate(() => {
        const { localStorage, sessionStorage, document } = globalThis as any;
        return JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie;
      });
      expect(stored).not.toContain(alice.token);

      await page.locator('.project-list').getByRole('link', { name: 'acme/tools' }).click();
      await page.getByRole('heading', { name: 'tools packages', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/acme/tools/-/packages');
      const rows = page.locator(ROWS);
      await expectCount(page, ROWS, 4);

      await rows.filter({ hasText: '1.1.0' }).getByRole('link', { name: 'hello' }).click();
      await page.getByRole('heading', { name: /hello\s+1\.1\.0/, level: 1 }).waitFor();
      const [hello110] = await packagesOf(env.s, tools.id, 'package_name=hello&package_version=1.1.0');
      expect(new URL(page.url()).pathname).toBe(`/acme/tools/-/packages/${hello110.id}`);
      await page.getByRole('link', { name: 'hello.txt' }).waitFor();
      // Other versions link to each other.
      await page.locator('.versions').getByRole('link', { name: '1.0.0' }).click();
      await page.getByRole('heading', { name: /hello\s+1\.0\.0/, level: 1 }).waitFor();
      // Back and forward are the browser's own.
      await page.goBack();
      await page.getByRole('heading', { name: /hello\s+1\.1\.0/, level: 1 }).waitFor();

      await header.getByRole('button', { name: 'Sign out' }).click();
      await header.getByRole('link', { name: 'Sign in' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/');
      // The session is over on the server too: the private project is a 404 again.
      const res = await page.goto('/acme/tools/-/packages');
      expect(res?.status()).toBe(404);
      await page.getByRole('heading', { name: '404 Not Found', level: 1 }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('after signing in goes back only to a path of this site, however the link spells another', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      for (const [redirect, landing] of [
        ['%2Facme%2Ftools%2F-%2Fpackages%3Ftype%3Dnpm', '/acme/tools/-/packages?type=npm'],
        ['%2F%09%2Fevil.example', '/'],
        ['%2F%0A%2Fevil.example%2Fx', '/'],
        ['https%3A%2F%2Fevil.example%2F', '/'],
        ['%2F%5Cevil.example', '/'],
        ['%2F.%2F%2Fevil.example%2Fx', '/'],
        ['%2Fa%2F..%2F..%2F%2Fevil.example', '/'],
      ]) {
        await page.goto(`/-/sign_in?redirect_to=${redirect}`);
        await page.getByLabel('Personal access token').fill(alice.token);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL((url) => url.pathname !== '/-/sign_in');
        const url = new URL(page.url());
        expect([url.origin, `${url.pathname}${url.search}`]).toEqual([env.s.url, landing]);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('filters a project list by type and by name, and searches every readable package', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await signIn(page, alice.token);
      await page.goto('/acme/tools/-/packages');
      const rows = page.locator(ROWS);
      await expectCount(page, ROWS, 4);

      await page.getByLabel('Type').selectOption('npm');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL('**/acme/tools/-/packages?type=npm');
      await expectCount(page, ROWS, 1);
      await expectText(rows.first(), '@acme/widget');
      await expectText(page.locator('.page-count'), '1 package');

      await page.getByLabel('Type').selectOption('');
      await page.getByLabel('Name').fill('hel');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL('**/acme/tools/-/packages?name=hel');
      await expectCount(page, ROWS, 2);
      expect(await rows.locator('td[data-label="Version"]').allTextContents()).toEqual(['1.1.0', '1.0.0']);

      await page.getByLabel('Type').selectOption('npm');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No packages found.').waitFor();

      // Search: every package the viewer may read, across projects, from the header's link.
      await page.locator('.site-nav').getByRole('link', { name: 'Search' }).click();
      await page.getByRole('heading', { name: 'Search packages', level: 1 }).waitFor();
      await page.getByLabel('Package name').fill('o');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL('**/-/search?q=o');
      const found = page.locator(ROWS);
      await expectCount(page, ROWS, 4);
      await page.getByLabel('Package name').fill('widget');
      await page.getByRole('button', { name: 'Filter' }).click();
      await expectCount(page, ROWS, 1);
      await expectText(found.locator('td[data-label="Project"]'), 'acme/tools');
      await found.getByRole('link', { name: '@acme/widget' }).click();
      await page.getByRole('heading', { name: /@acme\/widget\s+1\.0\.0/, level: 1 }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows an anonymous visitor public projects only; a private project is a 404 page with HTTP 404', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await page.goto('/');
      await page.locator('.project-list').getByRole('link', { name: 'opensrc/pub' }).waitFor();
      await expectCount(page, '.project-list li', 1);
      await expect(page.getByText('acme/tools').count()).resolves.toBe(0);
      // Recent packages: the public one only.
      await expectCount(page, ROWS, 1);
      await expectText(page.locator('table.packages tbody'), 'public-tool');

      for (const path of [
        '/acme/tools/-/packages',
        '/acme/tools/-/settings/packages',
        '/groups/acme/-/packages',
        '/nobody/nothing/-/packages',
      ]) {
        const res = await page.goto(path);
        expect([path, res?.status()]).toEqual([path, 404]);
        await page.getByRole('heading', { name: '404 Not Found', level: 1 }).waitFor();
        await expect(page.locator('main').textContent()).resolves.not.toMatch(/hello|world|widget/);
      }
      const [helloPkg] = await packagesOf(env.s, tools.id, 'package_name=hello');
      const res = await page.goto(`/acme/tools/-/packages/${helloPkg.id}`);
      expect(res?.status()).toBe(404);
      await page.getByRole('heading', { name: '404 Not Found', level: 1 }).waitFor();
      // A page that does not exist at all is the API's 404; a UI path that does not exist, the UI's.
      await page.goto('/opensrc/pub/-/packages/999999');
      await page.getByRole('heading', { name: '404 Not Found', level: 1 }).waitFor();

      await page.goto('/opensrc/pub/-/packages');
      await expectCount(page, ROWS, 1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('saves screenshots of home, a project, a package, sign-in, tokens and admin; readable at phone width', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await page.goto('/-/sign_in');
      await page.getByLabel('Personal access token').waitFor();
      await saveScreenshot(page, 'sign-in');

      await signIn(page, env.s.rootToken);
      await page.goto('/');
      await page.locator('.project-list').getByRole('link', { name: 'acme/tools' }).waitFor();
      await page.locator(ROWS).first().waitFor();
      await saveScreenshot(page, 'home');

      await page.goto('/acme/tools/-/packages');
      await expectCount(page, ROWS, 4);
      await saveScreenshot(page, 'project-packages');

      const [widget] = await packagesOf(env.s, tools.id, 'package_name=widget');
      await page.goto(`/acme/tools/-/packages/${widget.id}`);
      await page.getByRole('heading', { name: 'Installation' }).waitFor();
      await page.getByRole('link', { name: 'widget-1.0.0.tgz' }).waitFor();
      await saveScreenshot(page, 'package');

      await page.goto('/-/user_settings/personal_access_tokens');
      await page.locator('table.tokens tbody tr').first().waitFor();
      // An administrator's own tokens only (the API lists everyone's to an admin without user_id).
      const rootTokens = await env.s.api.root<{ name: string }[]>('GET', '/api/v4/personal_access_tokens?user_id=1');
      await expectCount(page, 'table.tokens tbody tr', rootTokens.length);
      expect(await page.locator('table.tokens').textContent()).not.toContain('t-api');
      await saveScreenshot(page, 'tokens');

      await page.goto('/admin');
      await page.getByRole('heading', { name: 'Storage', level: 2, exact: true }).waitFor();
      await expectText(page.locator('.migration-state'), 'No migration has run.');
      await expectText(page.locator('.jobs-state'), 'queued');
      await expectText(page.locator('.formats'), 'npm');
      await saveScreenshot(page, 'admin');

      await page.goto('/acme/tools/-/settings/packages');
      await page.getByRole('group', { name: 'npm' }).waitFor();
      await saveScreenshot(page, 'project-settings');

      // A phone: one column, nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 800 });
      for (const path of ['/', '/acme/tools/-/packages', `/acme/tools/-/packages/${widget.id}`]) {
        await page.goto(path);
        await page.locator('main h1').first().waitFor();
        await page.locator('main table, main .empty, main pre').first().waitFor();
        const overflow = await page.evaluate(() => {
          const root = (globalThis as any).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        });
        expect([path, overflow]).toEqual([path, 0]);
      }
      await saveScreenshot(page, 'package-phone');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("edits duplicate settings (the API's 400 shown on a bad regex) and creates and revokes deploy and personal tokens", async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await signIn(page, alice.token);
      await page.goto('/acme/tools/-/packages');
      await page.getByRole('link', { name: 'Package settings' }).click();
      const npm = page.getByRole('group', { name: 'npm' });
      await npm.waitFor();
      await npm.getByLabel('Exceptions (regular expression)').fill('(unclosed');
      await page.getByRole('button', { name: 'Save changes' }).click();
      const alert = page.getByRole('alert').filter({ hasText: /regex/i });
      await alert.waitFor();
      const saved = await env.s.api.root('GET', `/api/v4/projects/${tools.id}/package_settings`);
      expect(saved.npm_duplicate_exception_regex).not.toBe('(unclosed');

      await npm.getByLabel('Allow duplicates').setChecked(false);
      await npm.getByLabel('Exceptions (regular expression)').fill('^@acme/');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
      const after = await env.s.api.root('GET', `/api/v4/projects/${tools.id}/package_settings`);
      expect([after.npm_duplicates_allowed, after.npm_duplicate_exception_regex]).toEqual([false, '^@acme/']);

      // A deploy token: shown once, listed, revoked.
      const deploy = page.locator('section', { has: page.getByRole('heading', { name: 'Deploy tokens', exact: true }) });
      await deploy.getByLabel('Token name').fill('ci-read');
      await deploy.getByLabel('read_package_registry').check();
      await deploy.getByRole('button', { name: 'Create deploy token' }).click();
      const shown = deploy.locator('.new-token input');
      await shown.waitFor();
      const secret = await shown.inputValue();
      const list = await env.s.api.inject({ url: `/api/v4/projects/${tools.id}/packages`, headers: { 'deploy-token': secret } });
      expect(list.status).toBe(200);
      await deploy.getByRole('button', { name: 'Revoke ci-read' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await deploy.locator('table.tokens tbody tr', { hasText: 'ci-read' }).filter({ hasText: 'Revoked' }).waitFor();
      const refused = await env.s.api.inject({ url: `/api/v4/projects/${tools.id}/packages`, headers: { 'deploy-token': secret } });
      expect(refused.status).toBe(401);

      // A personal access token, the same way.
      await page.locator('.site-nav').getByRole('link', { name: 'Access tokens' }).click();
      await page.getByLabel('Token name').fill('laptop');
      await page.getByLabel('read_api').check();
      await page.getByLabel('Expiration date (optional)').fill('2099-12-31');
      await page.getByRole('button', { name: 'Create personal access token' }).click();
      const pat = page.locator('.new-token input');
      await pat.waitFor();
      const patSecret = await pat.inputValue();
      const me = await env.s.api.inject({ url: '/api/v4/user', token: patSecret });
      expect(me.json().username).toBe('alice');
      const row = page.locator('table.tokens tbody tr', { hasText: 'laptop' });
      await expectText(row, 'read_api');
      await row.getByRole('button', { name: 'Revoke laptop' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await row.filter({ hasText: 'Revoked' }).waitFor();
      expect((await env.s.api.inject({ url: '/api/v4/user', token: patSecret })).status).toBe(401);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
