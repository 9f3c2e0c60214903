import { createHash } from 'node:crypto';

import { startTestServer, storedBlobKeys, testModes, type TestProject, type TestServer, type TestUser, waitFor } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel, BlobCollector, CleanupPolicies, CleanupRunner, planJson } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// Packages cleanup policies: GitLab's keep_n_duplicated_package_files and Stowage's version rules,
// over REST (/projects/:id/packages/cleanup_policy), their dry run, a real run, and the schedule.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DEFAULT_POLICY = {
  keep_n_duplicated_package_files: 'all',
  next_run_at: null,
  keep_n_versions: null,
  not_downloaded_for_days: null,
  package_name_regex: null,
  package_type: null,
  last_run_at: null,
};

describe.each(testModes())('packages cleanup policies (%s)', (mode) => {
  let s: TestServer;
  let maintainer: TestUser;
  let developer: TestUser;
  let outsider: TestUser;
  let readOnly: string;
  let group: { id: number };
  let counter = 0;

  const newProject = async () => {
    const project = await s.api.createProject(`p${++counter}`, { namespaceId: group.id });
    await s.api.addMember({ project: project.id }, maintainer.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ project: project.id }, developer.id, AccessLevel.DEVELOPER);
    return project;
  };
  const put = async (project: TestProject, rest: string, body: string | Buffer) => {
    const res = await s.api.inject({ method: 'PUT', url: genericPath(project.id, rest), token: s.rootToken, payload: Buffer.from(body) });
    expect(res.status).toBe(201);
  };
  const policyUrl = (project: TestProject, rest = '') => `/api/v4/projects/${project.id}/packages/cleanup_policy${rest}`;
  const setPolicy = async (project: TestProject, payload: object) => {
    const res = await s.api.inject({ method: 'PUT', url: policyUrl(project), token: maintainer.token, payload });
    expect(res.status).toBe(200);
    return res.json();
  };
  const dryRun = async (project: TestProject) => {
    const res = await s.api.inject({ method: 'POST', url: policyUrl(project, '/dry_run'), token: maintainer.token });
    expect(res.status).toBe(200);
    return res.json();
  };
  const listing = async (project: TestProject) => {
    const res = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages?per_page=100&order_by=name`, token: s.rootToken });
    return res.json<{ id: number; name: string; version: string }[]>().map((p) => `${p.name}@${p.version}`);
  };
  const filesOf = async (project: TestProject, name: string, version: string) => {
    const list = await s.api.inject({
      url: `/api/v4/projects/${project.id}/packages?package_name=${name}&package_version=${version}`,
      token: s.rootToken,
    });
    const [pkg] = list.json();
    const res = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages/${pkg.id}/package_files`, token: s.rootToken });
    return res.json<{ id: number; file_name: string; size: number }[]>();
  };
  const sql = (q: string, params: unknown[] = []) => s.app.get(DataSource).query(q, params);
  /** Bytes of every blob the store holds. */
  const storedBytes = async () => {
    const rows: { bytes: string }[] = await sql('SELECT coalesce(sum(size), 0) AS bytes FROM blobs');
    return { bytes: Number(rows[0].bytes), keys: (await storedBlobKeys(s)).length };
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode });
    group = await s.api.createGroup('cleanup');
    maintainer = await s.api.createUser('maint');
    developer = await s.api.createUser('dev');
    outsider = await s.api.createUser('outsider');
    readOnly = await s.api.createToken(maintainer.id, ['read_api']);
  });
  afterAll(() => s?.close());

  describe('the policy API', () => {
    it('answers the defaults for a project that never set one, in GitLab’s field names', async () => {
      const project = await newProject();
      const res = await s.api.inject({ url: policyUrl(project), token: maintainer.token });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual(DEFAULT_POLICY);
    });

    it('is Maintainer and up: 401 anonymous, 404 to who cannot see the project, 403 to a Developer and to read_api writes', async () => {
      const project = await newProject();
      const calls = [
        { method: 'GET' as const, url: policyUrl(project) },
        { method: 'PUT' as const, url: policyUrl(project), payload: { keep_n_duplicated_package_files: '10' } },
        { method: 'POST' as const, url: policyUrl(project, '/dry_run') },
      ];
      for (const call of calls) {
        const anonymous = await s.api.inject(call);
        expect([call.method, anonymous.status, anonymous.json()]).toEqual([call.method, 401, { message: '401 Unauthorized' }]);
        const stranger = await s.api.inject({ ...call, token: outsider.token });
        expect([call.method, stranger.status, stranger.json()]).toEqual([call.method, 404, { message: '404 Project Not Found' }]);
        const dev = await s.api.inject({ ...call, token: developer.token });
        expect([call.method, dev.status, dev.json()]).toEqual([call.method, 403, { message: '403 Forbidden' }]);
        expect([call.method, (await s.api.inject({ ...call, token: maintainer.token })).status]).toEqual([call.method, 200]);
        expect([call.method, (await s.api.inject({ ...call, token: s.rootToken })).status]).toEqual([call.method, 200]);
      }
      expect((await s.api.inject({ url: policyUrl(project), token: readOnly })).status).toBe(200);
      const write = await s.api.inject({ method: 'PUT', url: policyUrl(project), token: readOnly, payload: { keep_n_versions: 1 } });
      expect(write.status).toBe(403);
      expect(write.json()).toMatchObject({ error: 'insufficient_scope' });
      expect((await s.api.inject({ url: '/api/v4/projects/99999999/packages/cleanup_policy', token: s.rootToken })).status).toBe(404);
    });

    it('sets next_run_at one interval ahead when a rule is on, and clears it when every rule is off', async () => {
      const project = await newProject();
      const before = Date.now();
      const on = await setPolicy(project, { keep_n_duplicated_package_files: '10', keep_n_versions: 5, package_name_regex: 'app-.*' });
      expect(on).toEqual({
        ...DEFAULT_POLICY,
        keep_n_duplicated_package_files: '10',
        keep_n_versions: 5,
        package_name_regex: 'app-.*',
        next_run_at: expect.any(String),
      });
      const next = new Date(on.next_run_at).getTime();
      expect(next).toBeGreaterThanOrEqual(before + 12 * 3600_000 - 1000);
      expect(next).toBeLessThanOrEqual(Date.now() + 12 * 3600_000 + 1000);
      // A PUT changing nothing keeps the schedule; GET answers what PUT did.
      expect((await setPolicy(project, {})).next_run_at).toBe(on.next_run_at);
      expect((await s.api.inject({ url: policyUrl(project), token: maintainer.token })).json()).toEqual(on);

      const typed = await setPolicy(project, { package_type: 'generic', not_downloaded_for_days: 30 });
      expect(typed).toMatchObject({ package_type: 'generic', not_downloaded_for_days: 30, keep_n_versions: 5 });
      const off = await setPolicy(project, {
        keep_n_duplicated_package_files: 'all',
        keep_n_versions: null,
        not_downloaded_for_days: '',
        package_name_regex: null,
        package_type: null,
      });
      expect(off).toEqual(DEFAULT_POLICY);
    });

    it.each([
      [{ keep_n_duplicated_package_files: '5' }, { error: 'keep_n_duplicated_package_files does not have a valid value' }],
      [{ keep_n_duplicated_package_files: 'none' }, { error: 'keep_n_duplicated_package_files does not have a valid value' }],
      [{ keep_n_versions: 0 }, { error: 'keep_n_versions does not have a valid value' }],
      [{ keep_n_versions: 'many' }, { error: 'keep_n_versions is invalid' }],
      [{ not_downloaded_for_days: -1 }, { error: 'not_downloaded_for_days is invalid' }],
      [{ not_downloaded_for_days: 100_000 }, { error: 'not_downloaded_for_days does not have a valid value' }],
      [{ package_name_regex: 'a(b' }, { error: 'package_name_regex is not valid RE2 syntax: missing closing ): `a(b`' }],
      [{ package_name_regex: '(a)\\1' }, { error: expect.stringMatching(/^package_name_regex is not valid RE2 syntax: /) }],
      [{ package_name_regex: 'x'.repeat(256) }, { error: 'package_name_regex is too long (maximum is 255 characters)' }],
      [{ package_type: 'npm' }, { error: 'package_type does not have a valid value' }],
      [{ keep_n_versions: { $gt: 1 } }, { error: 'keep_n_versions is invalid' }],
    ])('refuses %j with a 400 and changes nothing', async (payload, error) => {
      const project = await newProject();
      await setPolicy(project, { keep_n_duplicated_package_files: '1' });
      const before = (await s.api.inject({ url: policyUrl(project), token: maintainer.token })).json();
      const res = await s.api.inject({
        method: 'PUT',
        url: policyUrl(project),
        token: maintainer.token,
        payload: { keep_n_versions: 3, ...payload },
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual(error);
      expect((await s.api.inject({ url: policyUrl(project), token: maintainer.token })).json()).toEqual(before);
    });
  });

  describe('a run', () => {
    it('deletes exactly what the dry run listed, and the collector frees the bytes the dry run counted', async () => {
      const project = await newProject();
      for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) await put(project, `app/${v}/app.bin`, `app ${v} `.repeat(100));
      // Three re-uploads of app.bin to 1.3.0 (generic allows duplicates) and one other file.
      for (const n of [1, 2, 3]) await put(project, 'app/1.3.0/app.bin', `app 1.3.0 upload ${n} `.repeat(200));
      await put(project, 'app/1.3.0/notes.txt', 'notes');
      // lib is outside the name regex; its file holds the same bytes as app 1.0.0's, so that blob stays.
      await put(project, 'lib/1.0.0/lib.bin', 'lib one');
      await put(project, 'lib/2.0.0/lib.bin', `app 1.0.0 `.repeat(100));
      await put(project, 'lib/2.0.0/lib.bin', 'lib two again');
      await setPolicy(project, { keep_n_versions: 2, package_name_regex: 'app', keep_n_duplicated_package_files: '1' });

      const before = await listing(project);
      const plan = await dryRun(project);
      expect(await listing(project)).toEqual(before);
      expect(plan.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`)).toEqual(['app@1.0.0', 'app@1.1.0']);
      expect(plan.packages[0]).toEqual({
        id: expect.any(Number),
        name: 'app',
        version: '1.0.0',
        package_type: 'generic',
        reason: 'keep_n_versions',
        size: 1000,
        package_files: [
          { id: expect.any(Number), file_name: 'app.bin', size: 1000, file_sha256: sha256(Buffer.from('app 1.0.0 '.repeat(100))) },
        ],
      });
      const newest = await filesOf(project, 'app', '1.3.0');
      const appFiles = newest.filter((f) => f.file_name === 'app.bin');
      expect(appFiles).toHaveLength(4);
      expect(plan.package_files).toEqual(
        appFiles.slice(0, 3).map((f) => ({
          id: f.id,
          package_id: expect.any(Number),
          package_name: 'app',
          package_version: '1.3.0',
          package_type: 'generic',
          file_name: 'app.bin',
          size: f.size,
          file_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          reason: 'keep_n_duplicated_package_files',
        })),
      );
      const duplicateBytes = appFiles.slice(0, 3).reduce((n, f) => n + f.size, 0);
      expect(plan).toMatchObject({ packages_count: 2, package_files_count: 5, size: 2000 + duplicateBytes });
      // app 1.0.0's bytes are lib 2.0.0's too: deleting its file frees nothing.
      expect(plan.bytes_freed).toBe(1000 + duplicateBytes);

      // Nothing else is waiting for the collector, so the store's change is this run's alone.
      const collector = s.app.get(BlobCollector);
      await collector.collect(0);
      const stored = await storedBytes();
      const ran = await s.app.get(CleanupRunner).runProject(project.id);
      expect(planJson(ran!)).toEqual(plan);
      expect(await listing(project)).toEqual(['app@1.2.0', 'app@1.3.0', 'lib@1.0.0', 'lib@2.0.0']);
      expect((await filesOf(project, 'app', '1.3.0')).map((f) => f.file_name)).toEqual(['app.bin', 'notes.txt']);
      expect((await filesOf(project, 'lib', '2.0.0')).map((f) => f.file_name)).toEqual(['lib.bin', 'lib.bin']);
      const latest = await s.api.inject({ url: genericPath(project.id, 'app/1.3.0/app.bin'), token: s.rootToken });
      expect(latest.body).toBe('app 1.3.0 upload 3 '.repeat(200));
      expect((await s.api.inject({ url: genericPath(project.id, 'app/1.0.0/app.bin'), token: s.rootToken })).status).toBe(404);
      const shared = await s.api.inject({ url: genericPath(project.id, 'lib/2.0.0/lib.bin'), token: s.rootToken });
      expect(shared.body).toBe('lib two again');

      // Within the grace period the bytes stay; after it the collector removes exactly bytes_freed.
      expect(await collector.collect()).toBe(0);
      expect(await storedBytes()).toEqual(stored);
      expect(await collector.collect(0)).toBe(4);
      expect(await storedBytes()).toEqual({ bytes: stored.bytes - plan.bytes_freed, keys: stored.keys - 4 });

      // The run moved the schedule: it ran now, and runs again an interval later.
      const after = (await s.api.inject({ url: policyUrl(project), token: maintainer.token })).json();
      expect(Date.now() - new Date(after.last_run_at).getTime()).toBeLessThan(60_000);
      expect(new Date(after.next_run_at).getTime()).toBeGreaterThan(Date.now() + 11 * 3600_000);
      // And a second dry run finds nothing left to do.
      expect(await dryRun(project)).toEqual({
        packages_count: 0,
        package_files_count: 0,
        size: 0,
        bytes_freed: 0,
        packages: [],
        package_files: [],
      });
    });

    it('deletes versions not downloaded for N days (created_at when never downloaded), the newest N of each name kept', async () => {
      const project = await newProject();
      for (const v of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) await put(project, `old/${v}/f.txt`, `old ${v}`);
      await put(project, 'fresh/1.0.0/f.txt', 'fresh');
      // Everything of "old" was created 40 days ago; 2.0.0 was downloaded since.
      await sql(`UPDATE packages SET created_at = now() - interval '40 days' WHERE project_id = $1 AND name = 'old'`, [project.id]);
      const download = await s.api.inject({ url: genericPath(project.id, 'old/2.0.0/f.txt'), token: s.rootToken });
      expect(download.body).toBe('old 2.0.0');
      await waitFor('the download mark', async () => {
        const [row] = await sql(`SELECT last_downloaded_at FROM packages WHERE project_id = $1 AND version = '2.0.0'`, [project.id]);
        return row.last_downloaded_at !== null;
      });

      await setPolicy(project, { not_downloaded_for_days: 30 });
      const stale = await dryRun(project);
      expect(stale.packages.map((p: { name: string; version: string; reason: string }) => `${p.name}@${p.version}:${p.reason}`)).toEqual([
        'old@1.0.0:not_downloaded_for_days',
        'old@3.0.0:not_downloaded_for_days',
        'old@4.0.0:not_downloaded_for_days',
      ]);
      await setPolicy(project, { keep_n_versions: 1 });
      const plan = await dryRun(project);
      expect(plan.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`)).toEqual(['old@1.0.0', 'old@3.0.0']);
      expect(planJson((await s.app.get(CleanupRunner).runProject(project.id))!)).toEqual(plan);
      expect(await listing(project)).toEqual(['fresh@1.0.0', 'old@2.0.0', 'old@4.0.0']);
    });

    it('runs one project on one server at a time: a run held elsewhere is not started', async () => {
      const project = await newProject();
      await put(project, 'x/1.0.0/x.txt', 'one');
      await put(project, 'x/2.0.0/x.txt', 'two');
      await setPolicy(project, { keep_n_versions: 1 });
      const policies = s.app.get(CleanupPolicies);
      expect(await policies.claim(project.id, 'another-server')).toMatchObject({ projectId: project.id });
      expect(await s.app.get(CleanupRunner).runProject(project.id)).toBeNull();
      expect(await listing(project)).toEqual(['x@1.0.0', 'x@2.0.0']);
      await policies.release(project.id, 'another-server');
      expect((await s.app.get(CleanupRunner).runProject(project.id))!.packages.map((p) => p.version)).toEqual(['1.0.0']);
      expect(await listing(project)).toEqual(['x@2.0.0']);
    });

    it('never plans or deletes a package a protection rule covers, whatever its levels', async () => {
      const project = await newProject();
      for (const name of ['keep-me', 'drop-me'])
        for (const v of ['1.0.0', '2.0.0']) await put(project, `${name}/${v}/f.txt`, `${name} ${v}`);
      for (const n of [1, 2]) await put(project, `keep-me/2.0.0/f.txt`, `keep-me again ${n}`);
      await setPolicy(project, { keep_n_versions: 1, keep_n_duplicated_package_files: '1' });
      expect((await dryRun(project)).packages.map((p: { name: string }) => p.name)).toEqual(['keep-me', 'drop-me']);

      const rule = await s.api.inject({
        method: 'POST',
        url: `/api/v4/projects/${project.id}/packages/protection/rules`,
        token: maintainer.token,
        payload: { package_name_pattern: 'keep-*', package_type: 'generic', minimum_access_level_for_delete: 'owner' },
      });
      expect(rule.status).toBe(201);
      const plan = await dryRun(project);
      expect(plan.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`)).toEqual(['drop-me@1.0.0']);
      expect(plan.package_files).toEqual([]);
      expect((await s.app.get(CleanupRunner).runProject(project.id))!.packages.map((p) => `${p.name}@${p.version}`)).toEqual([
        'drop-me@1.0.0',
      ]);
      expect(await listing(project)).toEqual(['drop-me@2.0.0', 'keep-me@1.0.0', 'keep-me@2.0.0']);
    });

    it('lets a download that started before the run finish with every byte', async () => {
      const project = await newProject();
      const big = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
      await put(project, 'big/1.0.0/big.bin', big);
      await put(project, 'big/2.0.0/big.bin', 'small');
      await setPolicy(project, { keep_n_versions: 1 });

      const res = await fetch(`${s.url}${genericPath(project.id, 'big/1.0.0/big.bin')}`, { headers: { 'private-token': s.rootToken } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const chunks: Uint8Array[] = [];
      const first = await reader.read();
      chunks.push(first.value!);
      expect(first.value!.length).toBeLessThan(big.length);

      const ran = await s.app.get(CleanupRunner).runProject(project.id);
      expect(ran!.packages.map((p) => p.version)).toEqual(['1.0.0']);
      expect(await s.app.get(BlobCollector).collect()).toBe(0);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
      }
      const got = Buffer.concat(chunks);
      expect(got.length).toBe(big.length);
      expect(sha256(got)).toBe(sha256(big));
      expect((await s.api.inject({ url: genericPath(project.id, 'big/1.0.0/big.bin'), token: s.rootToken })).status).toBe(404);
    });
  });
});

describe.each(testModes())('packages cleanup policies on a schedule (%s)', (mode) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: false, config: { packages: { cleanup_interval: 1 } } });
  });
  afterAll(() => s?.close());

  it('runs a due policy without being asked, then schedules the next run', async () => {
    const project = await s.api.createProject('scheduled');
    for (const v of ['1.0.0', '2.0.0', '3.0.0']) {
      const res = await s.api.inject({
        method: 'PUT',
        url: genericPath(project.id, `s/${v}/s.txt`),
        token: s.rootToken,
        payload: Buffer.from(v),
      });
      expect(res.status).toBe(201);
    }
    const url = `/api/v4/projects/${project.id}/packages/cleanup_policy`;
    const set = await s.api.inject({ method: 'PUT', url, token: s.rootToken, payload: { keep_n_versions: 1 } });
    expect(set.json().next_run_at).not.toBeNull();
    const versions = async () => {
      const res = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages`, token: s.rootToken });
      return res.json<{ version: string }[]>().map((p) => p.version);
    };
    await waitFor('the scheduled cleanup', async () => (await versions()).length === 1);
    expect(await versions()).toEqual(['3.0.0']);
    const policy = await waitFor('the run to be recorded', async () => {
      const p = (await s.api.inject({ url, token: s.rootToken })).json();
      return p.last_run_at && p;
    });
    expect(new Date(policy.next_run_at).getTime()).toBeGreaterThan(new Date(policy.last_run_at).getTime());
  });
});
