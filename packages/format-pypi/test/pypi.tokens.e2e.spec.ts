import { join } from 'node:path';

import { startTestServer, type TestServer, type TestUser } from '@stowage/testkit';

import { pypiFormat } from '../src';
import { buildProject, type BuiltProject, cleanEnv, PYTHON, sh, tempDir } from './pypi.clients';

// Tokens as GitLab checks them, through real twine and pip: a project access token publishes
// and installs and stops the moment it is revoked; a CI job token sent with Basic needs the
// user name `gitlab-ci-token` (any other reads as anonymous: refused on a private project,
// public reads still work), and a deploy token its own user name.
describe('pypi with project access tokens, job tokens and deploy tokens', () => {
  let s: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let built: BuiltProject;
  let venvPython: string;
  let developer: TestUser;
  let priv: { id: number };
  let pub: { id: number };

  const host = () => new URL(s.url).host;
  const index = (user: string, secret: string, projectId: number) =>
    `http://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@${host()}/api/v4/projects/${projectId}/packages/pypi/simple`;

  const pipDownload = (indexUrl: string) =>
    sh(
      venvPython,
      [
        '-m',
        'pip',
        'download',
        '--no-cache-dir',
        '--no-deps',
        '--dest',
        join(work.path, `dl-${Date.now()}-${Math.random()}`),
        '--index-url',
        indexUrl,
        'stowage-tokens',
      ],
      { env: cleanEnv(work.path), cwd: work.path },
    );

  const twine = (projectId: number, user: string, secret: string) =>
    sh('twine', ['upload', '--non-interactive', '--repository-url', `${s.url}/api/v4/projects/${projectId}/packages/pypi`, built.wheel], {
      env: cleanEnv(work.path, { TWINE_USERNAME: user, TWINE_PASSWORD: secret }),
    });

  async function jobToken(projectId: number): Promise<string> {
    const res = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${projectId}/job_tokens`,
      token: developer.token,
      payload: {},
    });
    expect(res.status).toBe(201);
    return res.json().token;
  }

  beforeAll(async () => {
    work = await tempDir('pypi-tokens-');
    const [server, project, venv] = await Promise.all([
      startTestServer({ formats: [pypiFormat], mode: 'postgres', listen: true }),
      buildProject(work.path, { name: 'stowage-tokens', module: 'stowage_tokens', version: '1.0', body: 'VALUE = 1\n' }),
      sh(PYTHON, ['-m', 'venv', '--system-site-packages', join(work.path, 'venv')], { env: cleanEnv(work.path) }),
    ]);
    s = server;
    built = project;
    if (venv.code !== 0) throw new Error(venv.stderr);
    venvPython = join(work.path, 'venv', 'bin', 'python');
    developer = await s.api.createUser('pydev');
    priv = await s.api.createProject('private-lib', { visibility: 'private' });
    pub = await s.api.createProject('public-lib', { visibility: 'public' });
    for (const p of [priv, pub]) await s.api.addMember({ project: p.id }, developer.id, 30);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await work?.remove();
  });

  it('a project access token publishes with twine and installs with pip, and is refused the moment it is revoked', async () => {
    const made = await s.api.root('POST', `/api/v4/projects/${priv.id}/access_tokens`, {
      name: 'release',
      scopes: ['api'],
      access_level: 30,
    });
    const upload = await twine(priv.id, 'release', made.token);
    expect(upload.stderr + upload.stdout).not.toMatch(/error/i);
    expect(upload.code).toBe(0);
    const ok = await pipDownload(index('release', made.token, priv.id));
    expect(ok.stderr).not.toMatch(/ERROR/);
    expect(ok.stdout).toMatch(/Saved .*stowage_tokens-1\.0-py3-none-any\.whl/);

    await s.api.root('DELETE', `/api/v4/projects/${priv.id}/access_tokens/${made.id}`);
    const refused = await pipDownload(index('release', made.token, priv.id));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/401|No matching distribution/);
  });

  it('a job token installs with the user name gitlab-ci-token; with another one it is an unknown login', async () => {
    await s.api
      .root('POST', `/api/v4/projects/${pub.id}/access_tokens`, { name: 'seed', scopes: ['api'], access_level: 30 })
      .then((t) => twine(pub.id, 'seed', t.token).then((r) => expect(r.code).toBe(0)));
    const privJob = await jobToken(priv.id);
    const pubJob = await jobToken(pub.id);

    const ci = await pipDownload(index('gitlab-ci-token', privJob, priv.id));
    expect(ci.stdout).toMatch(/Saved .*stowage_tokens-1\.0/);
    // Another user name on a private project: refused (401, pip gives up).
    const wrong = await pipDownload(index('ci_user', privJob, priv.id));
    expect(wrong.code).not.toBe(0);
    // On a public project the unknown login reads as anonymous, as GitLab's fallback.
    const fallback = await pipDownload(index('ci_user', pubJob, pub.id));
    expect(fallback.stdout).toMatch(/Saved .*stowage_tokens-1\.0/);
    // Uploads need the job token itself: twine with another user name is refused.
    const upload = await twine(priv.id, 'ci_user', privJob);
    expect(upload.code).not.toBe(0);
    expect(upload.stdout + upload.stderr).toMatch(/401/);
  });

  it('a deploy token installs with its own user name only', async () => {
    const dt = await s.api.createDeployToken({ project: priv.id }, ['read_package_registry']);
    const own = await pipDownload(index(dt.username, dt.token, priv.id));
    expect(own.stdout).toMatch(/Saved .*stowage_tokens-1\.0/);
    const other = await pipDownload(index('someone', dt.token, priv.id));
    expect(other.code).not.toBe(0);
  });
});
