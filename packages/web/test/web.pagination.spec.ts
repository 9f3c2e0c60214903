import { genericFormat } from '@stowage/format-generic';

import { expectCount, expectText, newPage, startWebEnv, uploadGeneric, type WebEnv } from './web.fixtures';

const ROWS = 'table.packages tbody tr';
const TOTAL = 1000;

// A project with 1,000 packages: 20 a page, the count from the API's X-Total headers, and every
// page reachable from the first.
describe('web UI: 1,000 packages', () => {
  let env: WebEnv;

  beforeAll(async () => {
    env = await startWebEnv([genericFormat]);
    const { s } = env;
    const group = await s.api.createGroup('big', { visibility: 'public' });
    const project = await s.api.createProject('store', { namespaceId: group.id, visibility: 'public' });
    // Generic uploads in process, 25 at a time: the fastest real path to 1,000 rows.
    const names = Array.from({ length: TOTAL }, (_, i) => `pkg-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map((n) => uploadGeneric(s, project.id, s.rootToken, n, '1.0.0', 'f.txt', Buffer.from(`${n}\n`))),
      );
    }
  }, 120_000);
  afterAll(() => env?.close());

  it('renders 20 a page with the right count, and reaches the last page', async () => {
    const { page, context, problems } = await newPage(env.browser, env.s.url);
    try {
      await page.goto('/big/store/-/packages');
      await expectCount(page, ROWS, 20);
      await expectText(page.locator('.page-count'), 'Page 1 of 50 · 1000 packages');
      // Newest first: page 1 is from the last batch of uploads, the last page from the first.
      const numbers = async () => (await page.locator(`${ROWS} td[data-label="Name"] a`).allTextContents()).map((n) => Number(n.slice(4)));
      expect((await numbers()).every((n) => n >= TOTAL - 25)).toBe(true);

      await page.getByRole('link', { name: 'Next ›' }).click();
      await page.waitForURL('**/big/store/-/packages?page=2');
      await expectText(page.locator('.page-count'), 'Page 2 of 50');
      await expectCount(page, ROWS, 20);

      await page.getByRole('link', { name: 'Last page' }).click();
      await page.waitForURL('**/big/store/-/packages?page=50');
      await expectText(page.locator('.page-count'), 'Page 50 of 50 · 1000 packages');
      await expectCount(page, ROWS, 20);
      expect(await page.getByRole('link', { name: 'Next ›' }).count()).toBe(0);
      expect((await numbers()).every((n) => n < 25)).toBe(true);

      await page.getByRole('link', { name: '‹ Prev' }).click();
      await expectText(page.locator('.page-count'), 'Page 49 of 50');

      // Every name seen once across the pages: walk them with the Next link.
      await page.goto('/big/store/-/packages?name=pkg-09');
      await expectText(page.locator('.page-count'), 'Page 1 of 5 · 100 packages');
      const seen = new Set<string>();
      for (let p = 1; p <= 5; p++) {
        await expectText(page.locator('.page-count'), `Page ${p} of 5`);
        await expectCount(page, ROWS, 20);
        for (const n of await page.locator(`${ROWS} td[data-label="Name"] a`).allTextContents()) seen.add(n);
        if (p < 5) await page.getByRole('link', { name: 'Next ›' }).click();
      }
      expect(seen.size).toBe(100);

      // The group's list: the same count, with the project column.
      await page.goto('/groups/big/-/packages?page=50');
      await expectText(page.locator('.page-count'), 'Page 50 of 50 · 1000 packages');
      await expectCount(page, ROWS, 20);
      await expectText(page.locator(`${ROWS} td[data-label="Project"]`).first(), 'big/store');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
