import { type InjectResult, startTestServer, storedBlobKeys, testModes, type TestServer, type TestUser } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel } from '../src/auth/access-level';
import { globMatches, PackageProtection } from '../src/packages/protection/package-protection';
import { genericFormat, genericPath } from './generic-fixture';

// GitLab's package protection rules (issue 19, item 2): its REST API
// (lib/api/project_packages_protection_rules.rb) with its shapes, statuses and permission
// matrix, and the rules held by core on the generic format (push, delete, deploy and job
// tokens, admins); each format's real client is driven against them in its own package.

describe.each(testModes())('package protection rules (%s)', (mode) => {
  let s: TestServer;
  let project: { id: number; path_with_namespace: string };
  let other: { id: number };
  const users: Record<'owner' | 'maintainer' | 'developer' | 'reporter' | 'guest' | 'outsider', TestUser> = {} as never;
  let deployToken: string;

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token?: string, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token, payload });
  const rules = (id: number = project.id) => `/api/v4/projects/${id}/packages/protection/rules`;
  const upload = (name: string, headers: Record<string, string>, version = '1.0.0') =>
    s.api.inject({
      method: 'PUT',
      url: genericPath(project.id, `${name}/${version}/file.txt`),
      headers,
      payload: Buffer.from(`${name}@${version}`),
    });
  const asUser = (u: TestUser) => ({ 'private-token': u.token });
  const packageRows = async (name: string) =>
    (await s.app.get(DataSource).query('SELECT id FROM packages WHERE project_id = $1 AND name = $2', [project.id, name])).length;

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, formats: [genericFormat] });
    project = await s.api.createProject('app');
    other = await s.api.createProject('other');
    for (const [role, level] of [
      ['owner', AccessLevel.OWNER],
      ['maintainer', AccessLevel.MAINTAINER],
      ['developer', AccessLevel.DEVELOPER],
      ['reporter', AccessLevel.REPORTER],
      ['guest', AccessLevel.GUEST],
      ['outsider', null],
    ] as const) {
      users[role] = await s.api.createUser(role);
      if (level !== null) await s.api.addMember({ project: project.id }, users[role].id, level);
    }
    await s.api.addMember({ project: other.id }, users.maintainer.id, AccessLevel.MAINTAINER);
    deployToken = (await s.api.createDeployToken({ project: project.id }, ['read_package_registry', 'write_package_registry'])).token;
  });
  afterAll(() => s?.close());

  afterEach(async () => {
    await s.app.get(DataSource).query('DELETE FROM package_protection_rules');
  });

  async function createRule(fields: Record<string, unknown>, id = project.id): Promise<{ id: number }> {
    const res = await call('POST', rules(id), users.maintainer.token, fields);
    expect(res.status).toBe(201);
    return res.json();
  }

  describe('REST API', () => {
    it('POST creates a rule (201) in GitLab’s JSON and GET lists the project’s rules as one array', async () => {
      const res = await call('POST', rules(), users.maintainer.token, {
        package_name_pattern: '@acme/release-*',
        package_type: 'npm',
        minimum_access_level_for_push: 'maintainer',
      });
      expect(res.status).toBe(201);
      const rule = res.json();
      expect(rule).toEqual({
        id: expect.any(Number),
        project_id: project.id,
        package_name_pattern: '@acme/release-*',
        package_type: 'npm',
        minimum_access_level_for_delete: null,
        minimum_access_level_for_push: 'maintainer',
      });
      await createRule({ package_name_pattern: 'example.com/*', package_type: 'golang', minimum_access_level_for_delete: 'owner' });

      const list = await call('GET', rules(), users.maintainer.token);
      expect(list.status).toBe(200);
      expect(list.json()).toEqual([
        rule,
        {
          id: expect.any(Number),
          project_id: project.id,
          package_name_pattern: 'example.com/*',
          package_type: 'golang',
          minimum_access_level_for_delete: 'owner',
          minimum_access_level_for_push: null,
        },
      ]);
      // Go's packages are stored as `go`: the rule is too, and the API says `golang`.
      const [row] = await s.app
        .get(DataSource)
        .query('SELECT package_type FROM package_protection_rules WHERE package_name_pattern = $1', ['example.com/*']);
      expect(row.package_type).toBe('go');
      expect((await call('GET', rules(other.id), users.maintainer.token)).json()).toEqual([]);
    });

    it('takes its parameters as a form too (curl --data, as the README shows)', async () => {
      const res = await s.api.inject({
        method: 'POST',
        url: rules(),
        headers: { 'private-token': users.maintainer.token, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'package_name_pattern=release-*&package_type=generic&minimum_access_level_for_push=maintainer',
      });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({
        package_name_pattern: 'release-*',
        package_type: 'generic',
        minimum_access_level_for_push: 'maintainer',
      });
    });

    it('PATCH changes only the fields sent; a level sent as null clears it; DELETE answers 204 and the rule is gone', async () => {
      const { id } = await createRule({ package_name_pattern: 'lib-*', package_type: 'generic', minimum_access_level_for_push: 'owner' });
      const patched = await call('PATCH', `${rules()}/${id}`, users.maintainer.token, { package_name_pattern: 'lib-v*' });
      expect(patched.status).toBe(200);
      expect(patched.json()).toMatchObject({
        id,
        package_name_pattern: 'lib-v*',
        package_type: 'generic',
        minimum_access_level_for_push: 'owner',
      });

      const both = await call('PATCH', `${rules()}/${id}`, users.maintainer.token, {
        minimum_access_level_for_delete: 'admin',
        minimum_access_level_for_push: null,
      });
      expect(both.status).toBe(200);
      expect(both.json()).toMatchObject({ minimum_access_level_for_push: null, minimum_access_level_for_delete: 'admin' });
      const none = await call('PATCH', `${rules()}/${id}`, users.maintainer.token, { minimum_access_level_for_delete: null });
      expect(none.status).toBe(422);
      expect(none.json()).toEqual({ message: { error: ['A rule must have at least a minimum access role for push or delete.'] } });

      const gone = await call('DELETE', `${rules()}/${id}`, users.maintainer.token);
      expect(gone.status).toBe(204);
      expect(gone.body).toBe('');
      expect((await call('GET', rules(), users.maintainer.token)).json()).toEqual([]);
      const again = await call('DELETE', `${rules()}/${id}`, users.maintainer.token);
      expect(again.status).toBe(404);
      expect(again.json()).toEqual({ message: '404 Not found' });
    });

    it('a rule id of another project is 404, a non-integer one 400', async () => {
      const { id } = await createRule(
        { package_name_pattern: 'x', package_type: 'generic', minimum_access_level_for_push: 'owner' },
        other.id,
      );
      expect((await call('PATCH', `${rules()}/${id}`, users.maintainer.token, { package_name_pattern: 'y' })).status).toBe(404);
      expect((await call('DELETE', `${rules()}/${id}`, users.maintainer.token)).status).toBe(404);
      const bad = await call('DELETE', `${rules()}/abc`, users.maintainer.token);
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'package_protection_rule_id is invalid' });
      expect((await call('GET', rules(other.id), users.maintainer.token)).json()).toHaveLength(1);
    });

    it('bad parameters: 400 in Grape’s words, rule validations 422 in GitLab’s, and no row', async () => {
      const base = { package_name_pattern: 'pkg-*', package_type: 'generic', minimum_access_level_for_push: 'maintainer' };
      const cases: [Record<string, unknown>, number, unknown][] = [
        [{ ...base, package_name_pattern: undefined }, 400, { error: 'package_name_pattern is missing' }],
        [{ ...base, package_type: undefined }, 400, { error: 'package_type is missing' }],
        [{ ...base, package_type: 'debian' }, 400, { error: 'package_type does not have a valid value' }],
        [
          { ...base, minimum_access_level_for_push: 'developer' },
          400,
          { error: 'minimum_access_level_for_push does not have a valid value' },
        ],
        [
          { ...base, minimum_access_level_for_delete: 'maintainer' },
          400,
          { error: 'minimum_access_level_for_delete does not have a valid value' },
        ],
        [
          { ...base, minimum_access_level_for_push: undefined },
          400,
          { error: 'minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided' },
        ],
        [{ ...base, package_name_pattern: { $gt: '' } }, 400, { error: 'package_name_pattern is invalid' }],
        [
          { ...base, package_name_pattern: 'a'.repeat(256) },
          422,
          { message: { error: ['Package name pattern is too long (maximum is 255 characters)'] } },
        ],
        [
          { ...base, package_type: 'npm', package_name_pattern: '*@acme/pkg' },
          422,
          { message: { error: ['Package name pattern should be a valid NPM package name with optional wildcard characters.'] } },
        ],
        [
          { ...base, package_type: 'pypi', package_name_pattern: 'my pkg' },
          422,
          { message: { error: ['Package name pattern should be a valid PyPI package name with optional wildcard characters.'] } },
        ],
        [{ ...base, package_name_pattern: 'tab\there' }, 422, { message: { error: ['Package name pattern is invalid'] } }],
      ];
      for (const [payload, status, body] of cases) {
        const res = await call('POST', rules(), users.maintainer.token, payload);
        expect({ payload, status: res.status, body: res.json() }).toEqual({ payload, status, body });
      }
      expect((await call('GET', rules(), users.maintainer.token)).json()).toEqual([]);

      await createRule(base);
      const taken = await call('POST', rules(), users.maintainer.token, base);
      expect(taken.status).toBe(422);
      expect(taken.json()).toEqual({ message: { error: ['Package name pattern has already been taken'] } });
      // Unique per project, type and pattern: the same pattern for another type is another rule.
      await createRule({ ...base, package_type: 'maven' });
      const second = await createRule({ ...base, package_name_pattern: 'other-*' });
      const clash = await call('PATCH', `${rules()}/${second.id}`, users.maintainer.token, { package_name_pattern: 'pkg-*' });
      expect(clash.status).toBe(422);
      expect(clash.json()).toEqual({ message: { error: ['Package name pattern has already been taken'] } });
      const badType = await call('PATCH', `${rules()}/${second.id}`, users.maintainer.token, { package_type: 'nope' });
      expect(badType.status).toBe(400);
      expect((await call('GET', rules(), users.maintainer.token)).json()).toHaveLength(3);
    });

    it('the permission matrix: Maintainers and admins pass; other members 403, strangers 404, anonymous and bad tokens 401', async () => {
      const { id } = await createRule({ package_name_pattern: 'p', package_type: 'generic', minimum_access_level_for_push: 'owner' });
      const requests: [string, 'GET' | 'POST' | 'PATCH' | 'DELETE', string, object?][] = [
        ['list', 'GET', rules()],
        ['create', 'POST', rules(), { package_name_pattern: 'q', package_type: 'generic', minimum_access_level_for_push: 'owner' }],
        ['update', 'PATCH', `${rules()}/${id}`, { package_name_pattern: 'p' }],
      ];
      const expectations: [string, string | undefined, number, unknown][] = [
        ['guest', users.guest.token, 403, { message: '403 Forbidden' }],
        ['reporter', users.reporter.token, 403, { message: '403 Forbidden' }],
        ['developer', users.developer.token, 403, { message: '403 Forbidden' }],
        ['outsider', users.outsider.token, 404, { message: '404 Project Not Found' }],
        ['anonymous', undefined, 401, { message: '401 Unauthorized' }],
        ['bad token', 'glpat-not-a-token', 401, { message: '401 Unauthorized' }],
      ];
      for (const [who, token, status, body] of expectations) {
        for (const [what, method, url, payload] of [...requests, ['delete', 'DELETE', `${rules()}/${id}`] as const]) {
          const res = await call(method, url, token, payload);
          expect({ who, what, status: res.status, body: res.json() }).toEqual({ who, what, status, body });
        }
      }
      const deploy = await s.api.inject({ method: 'GET', url: rules(), headers: { 'deploy-token': deployToken } });
      expect(deploy.status).toBe(401);
      for (const [i, token] of [users.maintainer.token, users.owner.token, s.rootToken].entries()) {
        for (const [, method, url, payload] of requests) {
          const res = await call(method, url, token, method === 'POST' ? { ...payload, package_name_pattern: `q-${i}` } : payload);
          expect(res.status).toBe(method === 'POST' ? 201 : 200);
        }
      }
      const readOnly = await s.api.createToken(users.maintainer.id, ['read_api']);
      expect((await call('GET', rules(), readOnly)).status).toBe(200);
      expect((await call('POST', rules(), readOnly, requests[1][3])).status).toBe(403);
      expect((await call('DELETE', `${rules()}/${id}`, users.maintainer.token)).status).toBe(204);
    });
  });

  describe('enforcement', () => {
    it('a Developer’s push of a protected name is 403 Package protected. and stores nothing; a Maintainer’s goes through', async () => {
      await createRule({ package_name_pattern: 'Release-*', package_type: 'generic', minimum_access_level_for_push: 'maintainer' });
      const blobsBefore = (await storedBlobKeys(s)).length;
      // Case-insensitive, `*` any run of characters, as GitLab's ILIKE.
      const refused = await upload('release-app', asUser(users.developer));
      expect(refused.status).toBe(403);
      expect(refused.json()).toEqual({ message: '403 Forbidden - Package protected.' });
      expect(await packageRows('release-app')).toBe(0);
      expect((await storedBlobKeys(s)).length).toBe(blobsBefore);

      expect((await upload('release-app', asUser(users.maintainer))).status).toBe(201);
      expect(await packageRows('release-app')).toBe(1);
      expect((await upload('other-app', asUser(users.developer))).status).toBe(201);
    });

    it('`%` and `_` in a pattern are themselves, not LIKE wildcards', async () => {
      await createRule({ package_name_pattern: 'a_b', package_type: 'generic', minimum_access_level_for_push: 'maintainer' });
      await createRule({ package_name_pattern: '100%', package_type: 'generic', minimum_access_level_for_push: 'maintainer' });
      expect((await upload('axb', asUser(users.developer))).status).toBe(201);
      expect((await upload('a_b', asUser(users.developer))).status).toBe(403);
      const protection = s.app.get(PackageProtection);
      expect(await protection.protects({ projectId: project.id, packageType: 'generic', name: '100%' })).toBe(true);
      expect(await protection.protects({ projectId: project.id, packageType: 'generic', name: '1000' })).toBe(false);
    });

    it('levels: owner and admin rules hold Maintainers and Owners back; admins always pass', async () => {
      const { id } = await createRule({ package_name_pattern: 'core', package_type: 'generic', minimum_access_level_for_push: 'owner' });
      expect((await upload('core', asUser(users.maintainer))).status).toBe(403);
      expect((await upload('core', asUser(users.owner), '1.0.1')).status).toBe(201);
      await call('PATCH', `${rules()}/${id}`, users.maintainer.token, { minimum_access_level_for_push: 'admin' });
      expect((await upload('core', asUser(users.owner), '1.0.2')).status).toBe(403);
      expect((await upload('core', { 'private-token': s.rootToken }, '1.0.3')).status).toBe(201);
    });

    it('a deploy token (no role) is refused by any push rule; a job token acts with its user’s level', async () => {
      await createRule({ package_name_pattern: 'deployed', package_type: 'generic', minimum_access_level_for_push: 'maintainer' });
      const deployed = await upload('deployed', { 'deploy-token': deployToken });
      expect(deployed.status).toBe(403);
      expect(deployed.json()).toEqual({ message: '403 Forbidden - Package protected.' });
      const jobOf = async (u: TestUser) => (await call('POST', `/api/v4/projects/${project.id}/job_tokens`, u.token, {})).json().token;
      expect((await upload('deployed', { 'job-token': await jobOf(users.developer) })).status).toBe(403);
      expect((await upload('deployed', { 'job-token': await jobOf(users.maintainer) })).status).toBe(201);
      // A rule on delete only holds nobody's push back.
      await createRule({ package_name_pattern: 'kept', package_type: 'generic', minimum_access_level_for_delete: 'owner' });
      expect((await upload('kept', { 'deploy-token': deployToken })).status).toBe(201);
    });

    it('delete rules hold the Packages API’s DELETE of a package and of a file below their level', async () => {
      await createRule({ package_name_pattern: 'keep-*', package_type: 'generic', minimum_access_level_for_delete: 'owner' });
      expect((await upload('keep-me', asUser(users.developer))).status).toBe(201);
      const [pkg] = (await call('GET', `/api/v4/projects/${project.id}/packages?package_name=keep-me`, users.maintainer.token)).json();
      const [file] = (await call('GET', `/api/v4/projects/${project.id}/packages/${pkg.id}/package_files`, users.maintainer.token)).json();

      const fileRefused = await call(
        'DELETE',
        `/api/v4/projects/${project.id}/packages/${pkg.id}/package_files/${file.id}`,
        users.maintainer.token,
      );
      expect(fileRefused.status).toBe(403);
      expect(fileRefused.json()).toEqual({ message: '403 Forbidden - Package is deletion protected.' });
      const refused = await call('DELETE', `/api/v4/projects/${project.id}/packages/${pkg.id}`, users.maintainer.token);
      expect(refused.status).toBe(403);
      expect(refused.json()).toEqual({ message: '403 Forbidden - Package is deletion protected.' });
      expect(await packageRows('keep-me')).toBe(1);

      expect((await call('DELETE', `/api/v4/projects/${project.id}/packages/${pkg.id}`, users.owner.token)).status).toBe(204);
      expect(await packageRows('keep-me')).toBe(0);
    });

    it('a rule change holds from the next request on (rules are read per write, never cached)', async () => {
      const { id } = await createRule({
        package_name_pattern: 'flip',
        package_type: 'generic',
        minimum_access_level_for_push: 'maintainer',
      });
      expect((await upload('flip', asUser(users.developer))).status).toBe(403);
      expect((await call('DELETE', `${rules()}/${id}`, users.maintainer.token)).status).toBe(204);
      expect((await upload('flip', asUser(users.developer))).status).toBe(201);
    });

    it('matches patterns as GitLab’s glob: * any run, every other character itself, any case', () => {
      expect(globMatches('release-*', 'Release-1.0')).toBe(true);
      expect(globMatches('*-tool', 'my-tool')).toBe(true);
      expect(globMatches('a*b*c', 'aXbYc')).toBe(true);
      expect(globMatches('a*b*c', 'aXbY')).toBe(false);
      expect(globMatches('my_pkg', 'myxpkg')).toBe(false);
      expect(globMatches('50%', '50x')).toBe(false);
      expect(globMatches('a.c', 'abc')).toBe(false);
      expect(globMatches('', '')).toBe(true);
      expect(globMatches('*', 'anything')).toBe(true);
      // Many stars against a long name that misses: no regex is built, so no catastrophic backtracking.
      expect(globMatches('*a'.repeat(120) + 'b', 'a'.repeat(4000))).toBe(false);
    });

    it('PackageProtection.protects: what a cleanup must leave alone, whatever the rule’s levels', async () => {
      await createRule({ package_name_pattern: 'guarded-*', package_type: 'generic', minimum_access_level_for_delete: 'owner' });
      expect((await upload('guarded-1', asUser(users.developer))).status).toBe(201);
      expect((await upload('free-1', asUser(users.developer))).status).toBe(201);
      const protection = s.app.get(PackageProtection);
      expect(await protection.protects({ projectId: project.id, packageType: 'generic', name: 'GUARDED-1' })).toBe(true);
      expect(await protection.protects({ projectId: project.id, packageType: 'generic', name: 'free-1' })).toBe(false);
      expect(await protection.protects({ projectId: other.id, packageType: 'generic', name: 'guarded-1' })).toBe(false);
    });
  });
});
