import { type InjectResult, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, TokensService } from '../src';
import { genericFormat } from './generic-fixture';

// Core's access matrix (credentials, AccessService, @PackageAccess) as GitLab answers it for
// packages (https://docs.gitlab.com/user/packages/package_registry/#authenticate-with-the-registry),
// through the simplest package routes, the generic format's: who may upload (PUT) and download
// (GET) a file, by project visibility, caller and credential form.

type Visibility = 'public' | 'internal' | 'private';
type Action = 'upload' | 'download';
const VISIBILITIES: Visibility[] = ['public', 'internal', 'private'];

/** How a request carries its credentials. */
interface Credential {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

interface DeployTokens {
  ro: { token: string; username: string };
  wo: { token: string; username: string };
  rw: { token: string; username: string };
}

interface Fixture {
  projects: Record<Visibility, TestProject>;
  users: Record<'outsider' | 'guest' | 'reporter' | 'developer' | 'maintainer' | 'groupGuest' | 'groupDeveloper' | 'admin', TestUser>;
  /** Extra personal tokens of the developer. */
  pats: Record<'read_api' | 'read_package_registry' | 'write_package_registry' | 'expired' | 'revoked' | 'revokedByAdmin', string>;
  deploy: Record<Visibility, DeployTokens & { revoked: string }>;
  otherProjectDeploy: string;
  groupDeploy: string;
  otherGroupDeploy: string;
  /** The developer's job tokens, one per project, and one for a project outside the group. */
  job: Record<Visibility, string>;
  otherProjectJob: string;
  expiredJob: string;
}

const BAD = 'stwpat-thisTokenDoesNotExist0000000000';

/** Every caller the matrix knows, as the credential it presents on a project of some visibility. */
const CALLERS: Record<string, (f: Fixture, v: Visibility) => Credential> = {
  anonymous: () => ({}),
  'invalid PRIVATE-TOKEN': () => ({ headers: { 'private-token': BAD } }),
  'invalid Basic password': () => ({ headers: basic('someone', BAD) }),
  'invalid JOB-TOKEN': () => ({ headers: { 'job-token': BAD } }),
  'invalid DEPLOY-TOKEN': () => ({ headers: { 'deploy-token': BAD } }),
  'invalid Bearer': () => ({ headers: { authorization: `Bearer ${BAD}` } }),
  'invalid ?private_token=': () => ({ query: { private_token: BAD } }),
  'invalid ?job_token=': () => ({ query: { job_token: BAD } }),

  'non-member (PRIVATE-TOKEN)': (f) => ({ headers: { 'private-token': f.users.outsider.token } }),
  'non-member (Basic)': (f) => ({ headers: basic('whoever', f.users.outsider.token) }),
  'guest member': (f) => ({ headers: { 'private-token': f.users.guest.token } }),
  'reporter member': (f) => ({ headers: { 'private-token': f.users.reporter.token } }),
  'developer member (PRIVATE-TOKEN)': (f) => ({ headers: { 'private-token': f.users.developer.token } }),
  'developer member (Basic, any username)': (f) => ({ headers: basic('not-my-name', f.users.developer.token) }),
  'developer member (Bearer)': (f) => ({ headers: { authorization: `Bearer ${f.users.developer.token}` } }),
  'developer member (?private_token=)': (f) => ({ query: { private_token: f.users.developer.token } }),
  'maintainer member': (f) => ({ headers: { 'private-token': f.users.maintainer.token } }),
  'guest of the parent group': (f) => ({ headers: { 'private-token': f.users.groupGuest.token } }),
  'developer of the parent group': (f) => ({ headers: { 'private-token': f.users.groupDeveloper.token } }),
  'admin, not a member': (f) => ({ headers: { 'private-token': f.users.admin.token } }),

  'developer, read_api token': (f) => ({ headers: { 'private-token': f.pats.read_api } }),
  'developer, read_package_registry token': (f) => ({ headers: { 'private-token': f.pats.read_package_registry } }),
  'developer, write_package_registry token': (f) => ({ headers: { 'private-token': f.pats.write_package_registry } }),
  'developer, expired token': (f) => ({ headers: { 'private-token': f.pats.expired } }),
  'developer, token revoked by its owner': (f) => ({ headers: { 'private-token': f.pats.revoked } }),
  'developer, token revoked by an admin (Basic)': (f) => ({ headers: basic('dev', f.pats.revokedByAdmin) }),

  'deploy token read-only': (f, v) => ({ headers: { 'deploy-token': f.deploy[v].ro.token } }),
  'deploy token write-only': (f, v) => ({ headers: { 'deploy-token': f.deploy[v].wo.token } }),
  'deploy token read-write': (f, v) => ({ headers: { 'deploy-token': f.deploy[v].rw.token } }),
  'deploy token (Basic, its username)': (f, v) => ({ headers: basic(f.deploy[v].rw.username, f.deploy[v].rw.token) }),
  // GitLab: a deploy token goes with its own user name; any other is an unknown Basic login.
  'deploy token (Basic, another username)': (f, v) => ({ headers: basic('x', f.deploy[v].rw.token) }),
  'deploy token sent as PRIVATE-TOKEN': (f, v) => ({ headers: { 'private-token': f.deploy[v].rw.token } }),
  'deploy token, revoked': (f, v) => ({ headers: { 'deploy-token': f.deploy[v].revoked } }),
  "another project's deploy token": (f) => ({ headers: { 'deploy-token': f.otherProjectDeploy } }),
  'group deploy token of the parent group': (f) => ({ headers: { 'deploy-token': f.groupDeploy } }),
  "another group's deploy token": (f) => ({ headers: { 'deploy-token': f.otherGroupDeploy } }),

  'job token (JOB-TOKEN)': (f, v) => ({ headers: { 'job-token': f.job[v] } }),
  'job token (Basic gitlab-ci-token)': (f, v) => ({ headers: basic('gitlab-ci-token', f.job[v]) }),
  // GitLab: a Basic job token needs the user name gitlab-ci-token; any other is an unknown Basic login…
  'job token (Basic, another username)': (f, v) => ({ headers: basic('ci_user', f.job[v]) }),
  // …and gitlab-ci-token with a secret that is no job token is refused outright, public reads too.
  'gitlab-ci-token with a personal token': (f) => ({ headers: basic('gitlab-ci-token', f.users.developer.token) }),
  'gitlab-ci-token with an unknown secret': () => ({ headers: basic('gitlab-ci-token', BAD) }),
  'job token (?job_token=)': (f, v) => ({ query: { job_token: f.job[v] } }),
  'job token sent as PRIVATE-TOKEN': (f, v) => ({ headers: { 'private-token': f.job[v] } }),
  "another project's job token": (f) => ({ headers: { 'job-token': f.otherProjectJob } }),
  'job token, expired': (f) => ({ headers: { 'job-token': f.expiredJob } }),
};

type Caller = keyof typeof CALLERS;

// caller                                        public        internal      private
//                                               up    down    up    down    up    down
const MATRIX: [Caller, number, number, number, number, number, number][] = [
  ['anonymous', 401, 200, 401, 401, 401, 401],
  ['invalid PRIVATE-TOKEN', 401, 401, 401, 401, 401, 401],
  ['invalid Basic password', 401, 200, 401, 401, 401, 401],
  ['invalid JOB-TOKEN', 401, 401, 401, 401, 401, 401],
  ['invalid DEPLOY-TOKEN', 401, 401, 401, 401, 401, 401],
  ['invalid Bearer', 401, 401, 401, 401, 401, 401],
  ['invalid ?private_token=', 401, 401, 401, 401, 401, 401],
  ['invalid ?job_token=', 401, 401, 401, 401, 401, 401],

  ['non-member (PRIVATE-TOKEN)', 403, 200, 403, 200, 404, 404],
  ['non-member (Basic)', 403, 200, 403, 200, 404, 404],
  ['guest member', 403, 200, 403, 200, 403, 200],
  ['reporter member', 403, 200, 403, 200, 403, 200],
  ['developer member (PRIVATE-TOKEN)', 201, 200, 201, 200, 201, 200],
  ['developer member (Basic, any username)', 201, 200, 201, 200, 201, 200],
  ['developer member (Bearer)', 201, 200, 201, 200, 201, 200],
  ['developer member (?private_token=)', 201, 200, 201, 200, 201, 200],
  ['maintainer member', 201, 200, 201, 200, 201, 200],
  ['guest of the parent group', 403, 200, 403, 200, 403, 200],
  ['developer of the parent group', 201, 200, 201, 200, 201, 200],
  ['admin, not a member', 201, 200, 201, 200, 201, 200],

  ['developer, read_api token', 403, 200, 403, 200, 403, 200],
  ['developer, read_package_registry token', 403, 200, 403, 200, 403, 200],
  ['developer, write_package_registry token', 201, 200, 201, 200, 201, 200],
  ['developer, expired token', 401, 401, 401, 401, 401, 401],
  ['developer, token revoked by its owner', 401, 401, 401, 401, 401, 401],
  ['developer, token revoked by an admin (Basic)', 401, 200, 401, 401, 401, 401],

  ['deploy token read-only', 403, 200, 403, 200, 403, 200],
  ['deploy token write-only', 201, 200, 201, 200, 201, 200],
  ['deploy token read-write', 201, 200, 201, 200, 201, 200],
  ['deploy token (Basic, its username)', 201, 200, 201, 200, 201, 200],
  ['deploy token (Basic, another username)', 401, 200, 401, 401, 401, 401],
  ['deploy token sent as PRIVATE-TOKEN', 401, 401, 401, 401, 401, 401],
  ['deploy token, revoked', 401, 401, 401, 401, 401, 401],
  ["another project's deploy token", 403, 200, 404, 404, 404, 404],
  ['group deploy token of the parent group', 201, 200, 201, 200, 201, 200],
  ["another group's deploy token", 403, 200, 404, 404, 404, 404],

  ['job token (JOB-TOKEN)', 201, 200, 201, 200, 201, 200],
  ['job token (Basic gitlab-ci-token)', 201, 200, 201, 200, 201, 200],
  ['job token (Basic, another username)', 401, 200, 401, 401, 401, 401],
  ['gitlab-ci-token with a personal token', 401, 401, 401, 401, 401, 401],
  ['gitlab-ci-token with an unknown secret', 401, 401, 401, 401, 401, 401],
  ['job token (?job_token=)', 201, 200, 201, 200, 201, 200],
  ['job token sent as PRIVATE-TOKEN', 401, 401, 401, 401, 401, 401],
  ["another project's job token", 403, 200, 404, 404, 404, 404],
  ['job token, expired', 401, 401, 401, 401, 401, 401],
];

/** The matrix as GitLab's spec reads it: one row per [visibility, caller, action, status]. */
const ROWS: [Visibility, Caller, Action, number][] = MATRIX.flatMap(([caller, ...codes]) =>
  VISIBILITIES.flatMap((v, i) => [
    [v, caller, 'upload', codes[2 * i]] as [Visibility, Caller, Action, number],
    [v, caller, 'download', codes[2 * i + 1]] as [Visibility, Caller, Action, number],
  ]),
);

const DOWNLOAD_BYTES = Buffer.from('the file everyone tries to read\n');
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe.each(testModes())('access matrix through generic package routes (%s)', (mode) => {
  let s: TestServer;
  let f: Fixture;

  const url = (project: TestProject, path: string, query: Record<string, string> = {}) => {
    const qs = new URLSearchParams(query).toString();
    return `/api/v4/projects/${project.id}/packages/generic/${path}${qs ? `?${qs}` : ''}`;
  };

  function send(project: TestProject, action: Action, path: string, cred: Credential, body?: Buffer): Promise<InjectResult> {
    return s.api.inject({
      method: action === 'upload' ? 'PUT' : 'GET',
      url: url(project, path, cred.query),
      headers: cred.headers,
      payload: body,
    });
  }

  async function jobToken(project: TestProject, user: TestUser, expiresIn?: number): Promise<string> {
    const res = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${project.id}/job_tokens`,
      token: user.token,
      payload: expiresIn ? { expires_in: expiresIn } : {},
    });
    expect(res.status).toBe(201);
    return res.json().token;
  }

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: false });
    const api = s.api;
    const group = await api.createGroup('acme', { visibility: 'public' });
    const otherGroup = await api.createGroup('elsewhere', { visibility: 'private' });
    const projects = {
      public: await api.createProject('pub', { visibility: 'public', namespaceId: group.id }),
      internal: await api.createProject('int', { visibility: 'internal', namespaceId: group.id }),
      private: await api.createProject('priv', { visibility: 'private', namespaceId: group.id }),
    };
    const other = await api.createProject('other', { visibility: 'private', namespaceId: otherGroup.id });

    const users = {
      outsider: await api.createUser('outsider'),
      guest: await api.createUser('guest'),
      reporter: await api.createUser('reporter'),
      developer: await api.createUser('developer'),
      maintainer: await api.createUser('maintainer'),
      groupGuest: await api.createUser('group-guest'),
      groupDeveloper: await api.createUser('group-developer'),
      admin: await api.createUser('admin2', { admin: true }),
    };
    for (const p of [...Object.values(projects)]) {
      await api.addMember({ project: p.id }, users.guest.id, AccessLevel.GUEST);
      await api.addMember({ project: p.id }, users.reporter.id, AccessLevel.REPORTER);
      await api.addMember({ project: p.id }, users.developer.id, AccessLevel.DEVELOPER);
      await api.addMember({ project: p.id }, users.maintainer.id, AccessLevel.MAINTAINER);
    }
    await api.addMember({ project: other.id }, users.developer.id, AccessLevel.DEVELOPER);
    await api.addMember({ group: group.id }, users.groupGuest.id, AccessLevel.GUEST);
    await api.addMember({ group: group.id }, users.groupDeveloper.id, AccessLevel.DEVELOPER);

    const dev = users.developer;
    const revoked = await api.createToken(dev.id, ['api']);
    const revokedByAdmin = await api.createToken(dev.id, ['api']);
    const pats = {
      read_api: await api.createToken(dev.id, ['read_api']),
      read_package_registry: await api.createToken(dev.id, ['read_package_registry']),
      write_package_registry: await api.createToken(dev.id, ['write_package_registry']),
      // The API refuses a token born expired: this one expired since.
      expired: (
        await s.app
          .get(TokensService)
          .create({ kind: 'personal', name: 'expired', scopes: ['api'], userId: dev.id, expiresAt: new Date(yesterday()) })
      ).secret,
      revoked,
      revokedByAdmin,
    };
    // Revocation as GitLab's API does it: the owner revokes `self`, an admin revokes by id.
    expect((await s.api.inject({ url: '/api/v4/user', token: revoked })).status).toBe(200);
    expect((await s.api.inject({ method: 'DELETE', url: '/api/v4/personal_access_tokens/self', token: revoked })).status).toBe(204);
    const self = await s.api.inject({ url: '/api/v4/personal_access_tokens/self', token: revokedByAdmin });
    expect(self.status).toBe(200);
    await api.root('DELETE', `/api/v4/personal_access_tokens/${self.json().id}`);

    const deploy = {} as Fixture['deploy'];
    for (const v of VISIBILITIES) {
      const p = projects[v];
      const revokedDt = await api.createDeployToken({ project: p.id }, ['read_package_registry', 'write_package_registry']);
      await api.root('DELETE', `/api/v4/projects/${p.id}/deploy_tokens/${revokedDt.id}`);
      deploy[v] = {
        ro: await api.createDeployToken({ project: p.id }, ['read_package_registry']),
        wo: await api.createDeployToken({ project: p.id }, ['write_package_registry']),
        rw: await api.createDeployToken({ project: p.id }, ['read_package_registry', 'write_package_registry']),
        revoked: revokedDt.token,
      };
    }
    const rw = ['read_package_registry', 'write_package_registry'];

    const job = {} as Fixture['job'];
    for (const v of VISIBILITIES) job[v] = await jobToken(projects[v], dev);

    f = {
      projects,
      users,
      pats,
      deploy,
      otherProjectDeploy: (await api.createDeployToken({ project: other.id }, rw)).token,
      groupDeploy: (await api.createDeployToken({ group: group.id }, rw)).token,
      otherGroupDeploy: (await api.createDeployToken({ group: otherGroup.id }, rw)).token,
      job,
      otherProjectJob: await jobToken(other, dev),
      expiredJob: await jobToken(projects.private, dev, 1),
    };

    for (const p of Object.values(projects)) {
      const put = await s.api.inject({
        method: 'PUT',
        url: url(p, 'readable/1.0.0/file.bin'),
        token: s.rootToken,
        payload: DOWNLOAD_BYTES,
      });
      expect(put.status).toBe(201);
    }
    // The one-second job token has run out by the time the matrix runs.
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(() => s?.close());

  it.each(ROWS.map((r, i) => [...r, i] as const))('%s project | %s | %s → %i', async (visibility, caller, action, expected, i) => {
    const project = f.projects[visibility];
    const cred = CALLERS[caller](f, visibility);
    const uploaded = Buffer.from(`row ${i}: ${caller} uploads to ${visibility}\n`);
    const res =
      action === 'upload'
        ? await send(project, 'upload', `matrix/1.0.0/row-${i}.txt`, cred, uploaded)
        : await send(project, 'download', 'readable/1.0.0/file.bin', cred);

    expect({ status: res.status, body: res.status === expected ? undefined : res.body }).toEqual({ status: expected, body: undefined });
    switch (expected) {
      case 200:
        expect(res.rawPayload.equals(DOWNLOAD_BYTES)).toBe(true);
        break;
      case 201:
        expect(res.json()).toEqual({ message: '201 Created' });
        break;
      case 401:
        expect(res.headers['www-authenticate']).toBe('Basic realm="GitLab Packages Registry"');
        expect(res.json()).toEqual({ message: '401 Unauthorized' });
        break;
      case 403: {
        const body = res.json();
        expect(body.message === '403 Forbidden' || body.error === 'insufficient_scope').toBe(true);
        expect(res.headers['www-authenticate']).toBeUndefined();
        break;
      }
      case 404:
        expect(res.json()).toEqual({ message: '404 Project Not Found' });
        expect(res.headers['www-authenticate']).toBeUndefined();
        break;
    }

    if (action === 'upload') {
      // Only an accepted upload stores anything.
      const check = await send(project, 'download', `matrix/1.0.0/row-${i}.txt`, { headers: { 'private-token': s.rootToken } });
      if (expected === 201) {
        expect(check.status).toBe(200);
        expect(check.rawPayload.equals(uploaded)).toBe(true);
      } else {
        expect(check.status).toBe(404);
      }
    }
  });

  it('refuses read-scoped tokens with insufficient_scope and read-only deploy tokens with 403 on upload', async () => {
    for (const token of [f.pats.read_api, f.pats.read_package_registry]) {
      const res = await send(f.projects.private, 'upload', 'scoped/1.0.0/x.txt', { headers: { 'private-token': token } }, Buffer.from('x'));
      expect(res.status).toBe(403);
      expect(res.json().error).toBe('insufficient_scope');
    }
    const dt = await send(
      f.projects.private,
      'upload',
      'scoped/1.0.0/x.txt',
      { headers: { 'deploy-token': f.deploy.private.ro.token } },
      Buffer.from('x'),
    );
    expect(dt.status).toBe(403);
  });

  it('opens the Packages API to user tokens with read_api or api only; job and deploy tokens keep their registry scopes', async () => {
    const list = (path: string, headers: Record<string, string>) => s.api.inject({ url: `/api/v4/${path}`, headers });
    const project = `projects/${f.projects.private.id}/packages`;
    const group = `groups/${f.projects.private.namespace.id}/packages`;
    for (const path of [project, group]) {
      for (const token of [f.pats.read_package_registry, f.pats.write_package_registry]) {
        const res = await list(path, { 'private-token': token });
        expect([path, res.status, res.json()]).toEqual([
          path,
          403,
          {
            error: 'insufficient_scope',
            error_description: 'The request requires higher privileges than provided by the access token.',
          },
        ]);
      }
      expect((await list(path, { 'private-token': f.pats.read_api })).status).toBe(200);
      expect((await list(path, { 'private-token': f.users.developer.token })).status).toBe(200);
      expect((await list(path, { 'job-token': f.job.private })).status).toBe(200);
    }
    expect((await list(project, { 'deploy-token': f.deploy.private.ro.token })).status).toBe(200);
  });

  it('accepts header names in any case', async () => {
    const res = await s.api.inject({
      url: url(f.projects.private, 'readable/1.0.0/file.bin'),
      headers: { 'Private-Token': f.users.guest.token },
    });
    expect(res.status).toBe(200);
    const dt = await s.api.inject({
      url: url(f.projects.private, 'readable/1.0.0/file.bin'),
      headers: { 'Deploy-Token': f.deploy.private.ro.token },
    });
    expect(dt.status).toBe(200);
  });

  it('addresses the project by URL-encoded full path with the same answers', async () => {
    const byPath = (cred: Credential) =>
      s.api.inject({
        url: `/api/v4/projects/${encodeURIComponent(f.projects.private.path_with_namespace)}/packages/generic/readable/1.0.0/file.bin`,
        headers: cred.headers,
      });
    expect((await byPath({ headers: { 'private-token': f.users.guest.token } })).status).toBe(200);
    expect((await byPath({ headers: { 'private-token': f.users.outsider.token } })).status).toBe(404);
    const anon = await byPath({});
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Basic realm="GitLab Packages Registry"');
  });

  it('answers an unknown project like a hidden one: 404 with a token, 401 anonymously', async () => {
    const token = await s.api.inject({
      url: '/api/v4/projects/999999/packages/generic/readable/1.0.0/file.bin',
      token: f.users.developer.token,
    });
    expect(token.status).toBe(404);
    expect(token.json()).toEqual({ message: '404 Project Not Found' });
    const anon = await s.api.inject({ url: '/api/v4/projects/999999/packages/generic/readable/1.0.0/file.bin' });
    expect(anon.status).toBe(401);
  });

  it("lets no guest mint a job token (a job token carries its user's role)", async () => {
    const res = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${f.projects.private.id}/job_tokens`,
      token: f.users.guest.token,
      payload: {},
    });
    expect(res.status).toBe(403);
  });
});
