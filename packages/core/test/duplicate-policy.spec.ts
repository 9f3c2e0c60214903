import { Readable } from 'node:stream';

import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { ANONYMOUS } from '../src/auth/principal';
import type { DuplicateRule } from '../src/packages/duplicate-policy';
import { PackageService } from '../src/packages/package.service';
import { LIVE_STATUSES, PACKAGE_STATUSES } from '../src/packages/package-status';
import { defineFormatPlugin } from '../src/plugin/format-plugin';
import { type ProjectContext, withCaller } from '../src/projects/project-context';
import { ProjectsService } from '../src/projects/projects.service';
import { FileStorage } from '../src/storage/file-storage.service';

// The duplicate rule checked once before the body is read and again in the write transaction,
// from one function: a format gives what conflicts and its own refusal, core does the rest.

class DemoModule {
  static register() {
    return { module: DemoModule };
  }
}
const demoFormat = defineFormatPlugin({ name: 'demo', module: DemoModule, normalizeName: (n) => n.toLowerCase() });

class Refused extends Error {}

describe('LIVE_STATUSES', () => {
  it('is every status but pending_destruction (the unique index holds a version for them all)', () => {
    expect([...LIVE_STATUSES].sort()).toEqual(PACKAGE_STATUSES.filter((s) => s !== 'pending_destruction').sort());
  });
});

describe.each(testModes())('duplicate policy (%s)', (mode) => {
  let s: TestServer;
  let packages: PackageService;
  let storage: FileStorage;
  let ctx: ProjectContext;

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, formats: [demoFormat] });
    packages = s.app.get(PackageService);
    storage = s.app.get(FileStorage);
    const project = await s.api.createProject('dup');
    // The project has no protection rules: any caller may push.
    ctx = withCaller((await s.app.get(ProjectsService).findProjectById(project.id))!, { principal: ANONYMOUS, accessLevel: 0 });
  });
  afterAll(() => s?.close());

  const sameFile = (name: string, version: string, fileName: string): DuplicateRule => ({
    packageType: 'demo',
    name,
    version,
    conflicts: (files) => files.some((f) => f.file_name === fileName),
    refuse: () => new Refused(fileName),
  });

  async function publish(rule: DuplicateRule, fileName: string, status?: 'default' | 'error'): Promise<void> {
    const duplicates = await packages.checkDuplicate(ctx, rule);
    const blob = await storage.store(Readable.from([Buffer.from(`${rule.name}/${fileName}/${Math.random()}`)]));
    await packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({
          projectId: ctx.project.id,
          packageType: 'demo',
          name: rule.name,
          version: rule.version,
          status,
          duplicates,
        });
        await w.addFile(pkg, { fileName, blob });
      },
      { blobs: [blob] },
    );
  }

  it('allows duplicates when the settings do (the format default here), refuses them early when they do not', async () => {
    await publish(sameFile('a', '1.0', 'a.bin'), 'a.bin');
    await publish(sameFile('a', '1.0', 'a.bin'), 'a.bin');
    await s.api.setPackageSettings({ project: ctx.project.id }, { demo_duplicates_allowed: false });
    await expect(packages.checkDuplicate(ctx, sameFile('A', '1.0', 'a.bin'))).rejects.toBeInstanceOf(Refused);
    // Not a conflict: another file of the same version.
    await publish(sameFile('a', '1.0', 'b.bin'), 'b.bin');
  });

  it('applies the exception regex to the name or the version (regexVersion when given)', async () => {
    await s.api.setPackageSettings(
      { project: ctx.project.id },
      { demo_duplicates_allowed: false, demo_duplicate_exception_regex: '2\\.0' },
    );
    await publish(sameFile('r', '2.0@x/y', 'r.bin'), 'r.bin');
    await expect(packages.checkDuplicate(ctx, sameFile('r', '2.0@x/y', 'r.bin'))).rejects.toBeInstanceOf(Refused);
    await expect(packages.checkDuplicate(ctx, { ...sameFile('r', '2.0@x/y', 'r.bin'), regexVersion: '2.0' })).resolves.toMatchObject({
      allowed: true,
    });
    await s.api.setPackageSettings({ project: ctx.project.id }, { demo_duplicate_exception_regex: '' });
  });

  it("refuses in the transaction what slipped past the early check (a concurrent upload), whatever the package's live status", async () => {
    await s.api.setPackageSettings({ project: ctx.project.id }, { demo_duplicates_allowed: false });
    const rule = sameFile('t', '1.0', 't.bin');
    const early = await packages.checkDuplicate(ctx, rule);
    await publish(rule, 't.bin', 'error');
    const blob = await storage.store(Readable.from([Buffer.from('late')]));
    await expect(
      packages.write(
        async (w) => {
          const { pkg } = await w.upsertPackage({
            projectId: ctx.project.id,
            packageType: 'demo',
            name: 't',
            version: '1.0',
            duplicates: early,
          });
          await w.addFile(pkg, { fileName: 't.bin', blob });
        },
        { blobs: [blob] },
      ),
    ).rejects.toBeInstanceOf(Refused);
    expect(await packages.checkDuplicate(ctx, sameFile('t', '1.0', 'other.bin'))).toMatchObject({ allowed: false });
  });

  it("'version' conflicts with the version existing at all; 'never' ignores the settings", async () => {
    await s.api.setPackageSettings({ project: ctx.project.id }, { demo_duplicates_allowed: true });
    const rule: DuplicateRule = {
      packageType: 'demo',
      name: 'v',
      version: '1.0',
      conflicts: 'version',
      allowedBy: 'never',
      refuse: () => new Refused(),
    };
    expect(await packages.checkDuplicate(ctx, rule)).toMatchObject({ allowed: false });
    await publish(rule, 'v.bin');
    await expect(packages.checkDuplicate(ctx, rule)).rejects.toBeInstanceOf(Refused);
    await expect(packages.checkDuplicate(ctx, { ...rule, version: '1.1' })).resolves.toMatchObject({ allowed: false });
  });
});
