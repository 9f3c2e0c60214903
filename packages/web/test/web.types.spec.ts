import { PackageService } from '@stowage/core';
import { genericFormat } from '@stowage/format-generic';
import { goFormat } from '@stowage/format-go';

import { expectCount, expectText, newPage, startWebEnv, uploadGeneric, type WebEnv } from './web.fixtures';

const ROWS = 'table.packages tbody tr';

// Package types as the UI reads them from the Packages API: Go packages are GitLab's `golang`
// (stored as the `go` format's), shown and filtered under that name.
describe('web UI: package types', () => {
  let env: WebEnv;

  beforeAll(async () => {
    env = await startWebEnv([genericFormat, goFormat]);
    const { s } = env;
    const group = await s.api.createGroup('types', { visibility: 'public' });
    const project = await s.api.createProject('mixed', { namespaceId: group.id, visibility: 'public' });
    await uploadGeneric(s, project.id, s.rootToken, 'tool', '1.0.0', 'tool.sh', Buffer.from('echo hi\n'));
    // A Go module row as a zip upload makes it; the upload's own checks are format-go's tests.
    await s.app
      .get(PackageService)
      .write((w) => w.upsertPackage({ projectId: project.id, packageType: 'go', name: 'example.com/greet', version: 'v1.0.0' }));
  });
  afterAll(() => env?.close());

  it('shows a Go module as golang and filters the list by that type', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await page.goto('/types/mixed/-/packages');
      const rows = page.locator(ROWS);
      await expectCount(page, ROWS, 2);
      await page.getByLabel('Type').selectOption('golang');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL('**/types/mixed/-/packages?type=golang');
      await expectCount(page, ROWS, 1);
      await expectText(rows.first().locator('td[data-label="Name"]'), 'example.com/greet');
      await expectText(rows.first().locator('td[data-label="Type"]'), 'golang');

      await rows.first().getByRole('link', { name: 'example.com/greet' }).click();
      await page.getByRole('heading', { name: /example\.com\/greet\s+v1\.0\.0/, level: 1 }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
