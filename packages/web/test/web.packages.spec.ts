import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { genericFormat } from '@stowage/format-generic';
import { npmFormat } from '@stowage/format-npm';
import { pypiFormat } from '@stowage/format-pypi';
import { buildZip, multipart, type TestUser } from '@stowage/testkit';

import { expectCount, expectText, newPage, packagesOf, publishNpm, signIn, startWebEnv, uploadGeneric, type WebEnv } from './web.fixtures';

const run = promisify(execFile);

// A package's page in a real browser: copying the install instructions into the real npm
// client, deleting as a Maintainer (and not as a Reporter), and a hostile README.
describe('web UI: a package', () => {
  let env: WebEnv;
  let maintainer: TestUser;
  let reporter: TestUser;
  let project: { id: number; path_with_namespace: string };
  let dir: string;
  const widgetIndex = `module.exports = 'widget from the web UI ${Date.now()}';\n`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-web-'));
    env = await startWebEnv([genericFormat, npmFormat, pypiFormat]);
    const { s } = env;
    const acme = await s.api.createGroup('acme', { visibility: 'private' });
    project = await s.api.createProject('app', { namespaceId: acme.id, visibility: 'private' });
    [maintainer, reporter] = await Promise.all([s.api.createUser('maintainer'), s.api.createUser('reporter')]);
    await s.api.addMember({ project: project.id }, maintainer.id, 40);
    await s.api.addMember({ project: project.id }, reporter.id, 20);
    await publishNpm(s, project.id, s.rootToken, '@acme/widget', '1.0.0', widgetIndex);
    await uploadGeneric(s, project.id, s.rootToken, 'doomed', '1.0.0', 'a.txt', Buffer.from('a\n'));
    await uploadGeneric(s, project.id, s.rootToken, 'doomed', '1.0.0', 'b.txt', Buffer.from('b\n'));
    await uploadGeneric(s, project.id, s.rootToken, 'doomed', '2.0.0', 'a.txt', Buffer.from('a2\n'));
  });
  afterAll(async () => {
    await env?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const idOf = async (name: string, version: string) => {
    const [pkg] = (await packagesOf(env.s, project.id, `package_name=${encodeURIComponent(name)}&package_version=${version}`)).filter(
      (p) => p.name === name,
    );
    return pkg.id;
  };

  it('copies the .npmrc and install command, and npm installs the package with them', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url, { permissions: ['clipboard-read', 'clipboard-write'] });
    try {
      await signIn(page, reporter.token);
      await page.goto(`/acme/app/-/packages/${await idOf('@acme/widget', '1.0.0')}`);
      const copied: string[] = [];
      for (const title of ['.npmrc: the @acme scope from this project', 'Install']) {
        const block = page.locator('.instruction', { has: page.getByRole('heading', { name: title, exact: true }) });
        await block.getByRole('button', { name: 'Copy' }).click();
        await block.getByRole('button', { name: 'Copied' }).waitFor();
        const text = await page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);
        expect(text).toBe(await block.locator('pre code').textContent());
        copied.push(text);
      }
      const [npmrc, install] = copied;
      expect(npmrc).toContain('<your_token>');
      expect(install).toBe('npm install @acme/widget@1.0.0');

      const app = join(dir, 'npm-app');
      const home = join(dir, 'npm-home');
      await mkdir(app, { recursive: true });
      await mkdir(home, { recursive: true });
      await writeFile(join(app, '.npmrc'), `${npmrc.replace('<your_token>', reporter.token)}\n`);
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
      const env_: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NPM_|PNPM|NODE_OPTIONS)/i.test(k)) env_[k] = v;
      const [cmd, ...args] = install.split(' ');
      expect(cmd).toBe('npm');
      await run('npm', [...args, '--no-audit', '--no-fund'], {
        cwd: app,
        env: { ...env_, HOME: home, npm_config_cache: join(home, 'cache'), npm_config_update_notifier: 'false' },
      });
      expect(await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8')).toBe(widgetIndex);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('deletes a file and a version as Maintainer; a Reporter sees no delete button and the API refuses them', async () => {
    const doomed1 = await idOf('doomed', '1.0.0');
    const doomed2 = await idOf('doomed', '2.0.0');

    const asReporter = await newPage(env.browser, env.s.url);
    try {
      await signIn(asReporter.page, reporter.token);
      await asReporter.page.goto(`/acme/app/-/packages/${doomed1}`);
      await asReporter.page.getByRole('link', { name: 'b.txt' }).waitFor();
      expect(await asReporter.page.getByRole('button', { name: /Delete/ }).count()).toBe(0);
      const refused = await env.s.api.inject({
        method: 'DELETE',
        url: `/api/v4/projects/${project.id}/packages/${doomed1}`,
        token: reporter.token,
      });
      expect(refused.status).toBe(403);
      expect(asReporter.problems).toEqual([]);
    } finally {
      await asReporter.context.close();
    }

    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await signIn(page, maintainer.token);
      await page.goto(`/acme/app/-/packages/${doomed1}`);
      // One file: cancel first (nothing happens), then confirm.
      await page.getByRole('button', { name: 'Delete file b.txt' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Delete file b.txt' }).click();
      await dialog.getByRole('button', { name: 'Delete file' }).click();
      await expectCount(page, 'table.files tbody tr', 1);
      const files = await env.s.api.root('GET', `/api/v4/projects/${project.id}/packages/${doomed1}/package_files`);
      expect(files.map((f: { file_name: string }) => f.file_name)).toEqual(['a.txt']);

      // The version: back to the list, where it is gone and the other version stays.
      await page.getByRole('button', { name: 'Delete package' }).click();
      await dialog.getByRole('button', { name: 'Delete package' }).click();
      await page.waitForURL('**/acme/app/-/packages');
      await page.locator('table.packages tbody tr', { hasText: '2.0.0' }).waitFor();
      expect(await page.locator('table.packages tbody tr', { hasText: '1.0.0' }).filter({ hasText: 'doomed' }).count()).toBe(0);
      const gone = await env.s.api.inject({ url: `/api/v4/projects/${project.id}/packages/${doomed1}`, token: maintainer.token });
      expect(gone.status).toBe(404);
      const kept = await env.s.api.inject({ url: `/api/v4/projects/${project.id}/packages/${doomed2}`, token: maintainer.token });
      expect(kept.status).toBe(200);
      // Its page is the UI's 404 now, and the server's: asked afresh, and as the browser asks
      // again for a page it has (If-None-Match: the page's bytes are the same, its status is not).
      expect((await page.request.get(`/acme/app/-/packages/${doomed1}`)).status()).toBe(404);
      const res = await page.goto(`/acme/app/-/packages/${doomed1}`);
      expect(res?.status()).toBe(404);
      await page.getByRole('heading', { name: '404 Not Found', level: 1 }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  /** A wheel uploaded as twine sends it, with a Markdown description. */
  const uploadWheel = async (name: string, version: string, description: string, summary: string) => {
    const module = name.replace(/-/g, '_');
    const wheel = buildZip({
      [`${module}-${version}.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\n`,
      [`${module}.py`]: 'X = 1\n',
    });
    const form = multipart([
      { name: ':action', value: 'file_upload' },
      { name: 'name', value: name },
      { name: 'version', value: version },
      { name: 'filetype', value: 'bdist_wheel' },
      { name: 'summary', value: summary },
      { name: 'description', value: description },
      { name: 'description_content_type', value: 'text/markdown' },
      { name: 'sha256_digest', value: createHash('sha256').update(wheel).digest('hex') },
      { name: 'content', value: wheel, fileName: `${module}-${version}-py3-none-any.whl` },
    ]);
    const up = await env.s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${project.id}/packages/pypi`,
      headers: {
        'content-type': form.contentType,
        authorization: `Basic ${Buffer.from(`__token__:${maintainer.token}`).toString('base64')}`,
      },
      payload: form.body,
    });
    expect(up.status).toBe(201);
  };

  it('renders a hostile README without running any of it, and leaves no javascript: link', async () => {
    const readme = [
      '# Evil package',
      '',
      'Some *text* and [a safe link](https://example.com/docs).',
      '',
      "<script>window.__xss = 'script'</script>",
      '',
      '<img src=x onerror="window.__xss = \'img\'">',
      '',
      "[click me](javascript:window.__xss='md-link')",
      '',
      "[shout](JAVASCRIPT:window.__xss='upper')",
      '',
      '<a href="javascript:window.__xss=\'raw-a\'">raw anchor</a>',
      '',
      '<a href="java&#x09;script:window.__xss=\'tab\'">tabbed anchor</a>',
      '',
      '<svg><a xlink:href="javascript:window.__xss=\'svg\'"><text>svg link</text></a></svg>',
      '',
      '<iframe src="javascript:window.__xss=\'iframe\'"></iframe>',
      '',
      '<form action="javascript:window.__xss=\'form\'"><button>go</button></form>',
      '',
      '<div style="background:url(javascript:window.__xss=\'css\')" onclick="window.__xss=\'div\'">click the div</div>',
      '',
      // Passing for the page's own parts: its header's classes, a dialog, a popover.
      '<a class="skip-link site-header" href="https://evil.example/login">Your session expired: sign in again</a>',
      '',
      '<dialog open class="confirm">Confirm?</dialog>',
      '',
      '<div popover id="pop" class="site-header">popover</div>',
      '',
      '<h2 id="versions-title" role="dialog" aria-modal="true">Verified publisher</h2>',
      '',
      '<video width="3000" height="200" controls poster="data:image/png;base64,AAAA"></video>',
      '',
      '<img src="https://external.example/track.png" alt="tracker"> <img src="/-/ui/missing.png" alt="local">',
      '',
      '[back to the top](#evil-package)',
    ].join('\n');
    await uploadWheel('evil-pkg', '1.0', readme, '<b onmouseover="window.__xss=1">summary</b>');

    const { page, context } = await newPage(env.browser, env.s.url);
    try {
      await signIn(page, maintainer.token);
      await page.goto(`/acme/app/-/packages/${await idOf('evil-pkg', '1.0')}`);
      const rendered = page.locator('.readme');
      await rendered.getByRole('heading', { name: 'Evil package' }).waitFor();
      // The summary is text, shown as written.
      await page.locator('.metadata').getByText('<b onmouseover="window.__xss=1">summary</b>').waitFor();

      // Click everything that looks clickable in the README: nothing runs.
      for (const name of ['click me', 'shout', 'raw anchor', 'tabbed anchor']) {
        const link = rendered.getByText(name, { exact: true });
        if (await link.count()) await link.click();
      }
      const divs = rendered.getByText('click the div');
      if (await divs.count()) await divs.click();
      expect(new URL(page.url()).pathname).toMatch(/^\/acme\/app\/-\/packages\/\d+$/);
      await page.locator('.readme').hover();
      expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();

      const found = await page.evaluate(() => {
        const document = (globalThis as any).document;
        const hrefs: string[] = [...document.querySelectorAll('[href], [src], [action], [formaction]')].flatMap((el: any) =>
          ['href', 'src', 'action', 'formaction', 'xlink:href'].map((a) => el.getAttribute(a) ?? ''),
        );
        const readme = document.querySelector('.readme');
        return {
          javascriptUrls: hrefs.filter((h) => /^\s*j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:/i.test(h.replace(/[\t\n\r]/g, ''))),
          handlers: [...readme.querySelectorAll('*')].flatMap((el: any) =>
            [...el.attributes].filter((a: any) => /^on/i.test(a.name)).map((a: any) => a.name),
          ),
          scripts: readme.querySelectorAll('script, iframe, form, svg, style, dialog, video').length,
          styled: readme.querySelectorAll('[style], [class], [popover], [id], [role], [aria-modal]').length,
          images: [...readme.querySelectorAll('img')].map((img: any) => img.getAttribute('alt')),
          safe: [...readme.querySelectorAll('a[href]')].map((a: any) => [a.getAttribute('href'), a.getAttribute('rel')]),
        };
      });
      expect(found).toEqual({
        javascriptUrls: [],
        handlers: [],
        scripts: 0,
        styled: 0,
        images: [null, 'local'], // `<img src=x>` (this site's, without its onerror) and the local one; the external one is gone
        safe: [
          ['https://example.com/docs', 'noopener noreferrer nofollow'],
          ['https://evil.example/login', 'noopener noreferrer nofollow'],
          ['#evil-package', 'noopener noreferrer nofollow'],
        ],
      });
    } finally {
      await context.close();
    }
  });

  it.each([
    // 20,000 nested quotes overflow marked's stack: on the page's thread that took the page down.
    ['deep-pkg', `# Deep\n\n${'>'.repeat(20_000)} bottom`],
    // One reference used 11,000 times: 64 KiB of Markdown, hundreds of MB of HTML.
    ['wide-pkg', `# Deep\n\n[a]: https://e.example/${'A'.repeat(5_000)}\n\n${'![a]'.repeat(11_000)}`],
  ])('shows a README the page cannot render in reason as text (%s), and the page stays whole', async (name, readme) => {
    await uploadWheel(name, '1.0', readme, 'deep');
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await signIn(page, maintainer.token);
      await page.goto(`/acme/app/-/packages/${await idOf(name, '1.0')}`);
      await expectText(page.locator('pre.readme-text'), '# Deep');
      expect(await page.locator('pre.readme-text').textContent()).toBe(readme);
      await page.getByRole('heading', { name: new RegExp(`${name}\\s+1\\.0`), level: 1 }).waitFor();
      await page.getByRole('link', { name: `${name.replace('-', '_')}-1.0-py3-none-any.whl`, exact: true }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
