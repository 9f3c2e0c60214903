import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import { RenderedDocuments } from '@stowage/core';
import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { mavenFormat } from '../src';

/** A request with the path exactly as given (no dot-segment normalization), as `curl --path-as-is` sends it. */
function rawRequest(url: string, method: string, path: string, token: string, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest(
      { hostname, port, path, method, headers: { 'private-token': token, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res
          .on('data', (c: Buffer) => chunks.push(c))
          .on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const hash = (alg: string, data: Buffer | string) => createHash(alg).update(data).digest('hex');
const MAX_FILE = 64 * 1024;

const pom = (g: string, a: string, v: string) =>
  `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>` +
  `<groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></project>\n`;

const artifactMetadata = (g: string, a: string, versions: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>${g}</groupId><artifactId>${a}</artifactId><versioning>` +
  `<latest>${versions[versions.length - 1]}</latest><versions>${versions.map((v) => `<version>${v}</version>`).join('')}</versions>` +
  `<lastUpdated>20260101000000</lastUpdated></versioning></metadata>`;

describe.each(testModes())('maven HTTP API (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let reporter: TestUser;
  let outsider: TestUser;
  let group: { id: number; full_path: string };
  let project: TestProject;
  let other: TestProject;
  let base: string;

  const put = (path: string, payload: Buffer | string, token?: string, headers: Record<string, string> = {}) =>
    s.api.inject({ method: 'PUT', url: `${base}/${path}`, payload, token: token ?? dev.token, headers });
  const get = (url: string, token?: string, headers: Record<string, string> = {}) => s.api.inject({ url, token, headers });
  const listMaven = async (p: TestProject) =>
    (
      await s.api.root<{ id: number; name: string; version: string }[]>(
        'GET',
        `/api/v4/projects/${p.id}/packages?package_type=maven&per_page=100`,
      )
    ).filter((x) => x.version !== '');

  beforeAll(async () => {
    s = await startTestServer({ formats: [mavenFormat], mode, listen: true, config: { formats: { maven: { max_file_size: MAX_FILE } } } });
    dev = await s.api.createUser('dev');
    reporter = await s.api.createUser('reporter');
    outsider = await s.api.createUser('outsider');
    group = await s.api.createGroup('acme');
    project = await s.api.createProject('libs', { namespaceId: group.id });
    other = await s.api.createProject('other', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, dev.id, 30);
    await s.api.addMember({ project: project.id }, reporter.id, 20);
    base = `/api/v4/projects/${project.id}/packages/maven`;
  });
  afterAll(() => s?.close());

  const jar = Buffer.from('PK\u0003\u0004 pretend jar bytes \u0000\u00ff'.repeat(20), 'latin1');
  const dir = 'acme/libs/core/1.0';

  it('stores a release, serves its bytes, checksums and Resolver headers, and verifies uploaded checksums', async () => {
    expect((await put(`${dir}/core-1.0.jar`, jar)).status).toBe(200);
    expect((await put(`${dir}/core-1.0.jar.sha1`, hash('sha1', jar))).status).toBe(204);
    expect((await put(`${dir}/core-1.0.jar.md5`, `${hash('md5', jar).toUpperCase()}  core-1.0.jar\n`)).status).toBe(200);
    expect((await put(`${dir}/core-1.0.jar.sha512`, hash('sha512', jar))).status).toBe(204);
    const p = pom('acme.libs', 'core', '1.0');
    expect((await put(`${dir}/core-1.0.pom`, p)).status).toBe(200);

    const res = await get(`${base}/${dir}/core-1.0.jar`, dev.token);
    expect(res.status).toBe(200);
    expect(res.rawPayload.equals(jar)).toBe(true);
    expect(res.headers['x-checksum-sha1']).toBe(hash('sha1', jar));
    expect(res.headers['x-checksum-md5']).toBe(hash('md5', jar));
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) {
      const c = await get(`${base}/${dir}/core-1.0.jar.${alg}`, dev.token);
      expect([c.status, c.body]).toEqual([200, hash(alg, jar)]);
    }
    expect((await get(`${base}/${dir}/core-1.0.pom`, reporter.token)).body).toBe(p);
    const head = await s.api.inject({ method: 'HEAD', url: `${base}/${dir}/core-1.0.jar`, token: dev.token });
    expect([head.status, Number(head.headers['content-length']), head.body]).toEqual([200, jar.length, '']);
  });

  it('refuses a checksum that does not match with 409 and keeps serving the real digest', async () => {
    const res = await put(`${dir}/core-1.0.jar.sha1`, 'a'.repeat(40));
    expect(res.status).toBe(409);
    expect(res.json().message).toMatch(/sha1 checksum does not match core-1.0.jar/);
    expect((await get(`${base}/${dir}/core-1.0.jar.sha1`, dev.token)).body).toBe(hash('sha1', jar));
    expect((await put(`${dir}/core-1.0.jar.sha256`, 'not hex')).status).toBe(400);
    expect((await put(`${dir}/missing-1.0.jar.sha1`, hash('sha1', jar))).status).toBe(404);
  });

  it('verifies the metadata checksums of each of two interleaved deploys of one artifact', async () => {
    // Two CI jobs deploy 2.0 and 2.1 at once: each uploads maven-metadata.xml, then its checksums.
    const mine = artifactMetadata('acme.libs', 'race', ['2.0']);
    const theirs = artifactMetadata('acme.libs', 'race', ['2.0', '2.1']);
    expect((await put('acme/libs/race/maven-metadata.xml', mine)).status).toBe(200);
    expect((await put('acme/libs/race/maven-metadata.xml', theirs)).status).toBe(200);
    expect((await put('acme/libs/race/maven-metadata.xml.sha1', hash('sha1', mine))).status).toBe(204);
    expect((await put('acme/libs/race/maven-metadata.xml.md5', hash('md5', mine))).status).toBe(200);
    expect((await put('acme/libs/race/maven-metadata.xml.sha1', hash('sha1', theirs))).status).toBe(204);
    const wrong = await put('acme/libs/race/maven-metadata.xml.sha1', hash('sha1', 'neither'));
    expect(wrong.status).toBe(409);
  });

  it('renders artifact maven-metadata.xml from rows, with checksums, ETag and 304', async () => {
    await put('acme/libs/core/1.1/core-1.1.jar', 'second');
    const meta = artifactMetadata('acme.libs', 'core', ['1.0', '1.1']);
    expect((await put('acme/libs/core/maven-metadata.xml', meta)).status).toBe(200);
    expect((await put('acme/libs/core/maven-metadata.xml.sha1', hash('sha1', meta))).status).toBe(204);

    const res = await get(`${base}/acme/libs/core/maven-metadata.xml`, dev.token);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<groupId>acme.libs</groupId>');
    expect(res.body).toMatch(
      /<latest>1\.1<\/latest>\s*<release>1\.1<\/release>\s*<versions>\s*<version>1\.0<\/version>\s*<version>1\.1<\/version>/,
    );
    expect(res.headers['x-checksum-sha1']).toBe(hash('sha1', res.rawPayload));
    expect((await get(`${base}/acme/libs/core/maven-metadata.xml.sha256`, dev.token)).body).toBe(hash('sha256', res.rawPayload));
    const again = await get(`${base}/acme/libs/core/maven-metadata.xml`, dev.token, { 'if-none-match': String(res.headers.etag) });
    expect(again.status).toBe(304);
    const head = await s.api.inject({ method: 'HEAD', url: `${base}/acme/libs/core/maven-metadata.xml`, token: dev.token });
    expect([head.status, Number(head.headers['content-length']), head.body]).toEqual([200, res.rawPayload.length, '']);
  });

  it('regenerates metadata when a version is deleted, so it never lists what is gone', async () => {
    const v11 = (await listMaven(project)).find((x) => x.name === 'acme/libs/core' && x.version === '1.1')!;
    await s.api.root('DELETE', `/api/v4/projects/${project.id}/packages/${v11.id}`);
    const res = await get(`${base}/acme/libs/core/maven-metadata.xml`, dev.token);
    expect(res.body).not.toContain('1.1');
    expect(res.body).toContain('<release>1.0</release>');
    expect((await get(`${base}/acme/libs/core/1.1/core-1.1.jar`, dev.token)).status).toBe(404);
  });

  it('answers 404 for the metadata of an artifact whose last version is deleted, and serves plugin-group metadata as uploaded', async () => {
    await put('acme/libs/gone/1.0/gone-1.0.jar', 'gone');
    await put('acme/libs/gone/maven-metadata.xml', artifactMetadata('acme.libs', 'gone', ['1.0']));
    expect((await get(`${base}/acme/libs/gone/maven-metadata.xml`, dev.token)).body).toContain('<version>1.0</version>');
    const pkg = (await listMaven(project)).find((x) => x.name === 'acme/libs/gone')!;
    await s.api.root('DELETE', `/api/v4/projects/${project.id}/packages/${pkg.id}`);
    expect((await get(`${base}/acme/libs/gone/maven-metadata.xml`, dev.token)).status).toBe(404);

    const plugins =
      '<metadata><plugins><plugin><name>Demo</name><prefix>demo</prefix><artifactId>demo-maven-plugin</artifactId></plugin></plugins></metadata>';
    expect((await put('acme/tools/maven-metadata.xml', plugins)).status).toBe(200);
    const res = await get(`${base}/acme/tools/maven-metadata.xml`, dev.token);
    expect([res.status, res.body, res.headers['x-checksum-sha1']]).toEqual([200, plugins, hash('sha1', plugins)]);
  });

  it('renders SNAPSHOT version metadata from the timestamped files of each deploy', async () => {
    const d = 'acme/libs/snap/2.0-SNAPSHOT';
    await put(`${d}/snap-2.0-20260101.101010-1.jar`, 'build one');
    await put(`${d}/snap-2.0-20260101.101010-1.pom`, pom('acme.libs', 'snap', '2.0-SNAPSHOT'));
    await put(`${d}/snap-2.0-20260102.111111-2.jar`, 'build two');
    await put(`${d}/snap-2.0-20260102.111111-2-sources.jar`, 'sources two');
    const res = await get(`${base}/${d}/maven-metadata.xml`, dev.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/<timestamp>20260102\.111111<\/timestamp>\s*<buildNumber>2<\/buildNumber>/);
    expect(res.body).toMatch(/<extension>jar<\/extension>\s*<value>2\.0-20260102\.111111-2<\/value>/);
    expect(res.body).toMatch(/<classifier>sources<\/classifier>\s*<extension>jar<\/extension>/);
    expect(res.body).toMatch(/<extension>pom<\/extension>\s*<value>2\.0-20260101\.101010-1<\/value>/);
    // Republishing the same SNAPSHOT file name is always allowed.
    expect((await put(`${d}/snap-2.0-20260102.111111-2.jar`, 'build two again')).status).toBe(200);
    expect((await get(`${base}/${d}/snap-2.0-20260102.111111-2.jar`, dev.token)).body).toBe('build two again');
  });

  it('answers a miss with 404 Package Not Found', async () => {
    for (const path of [
      'acme/libs/nope/1.0/nope-1.0.jar',
      'acme/libs/nope/maven-metadata.xml',
      'acme/libs/core/9.9/core-9.9.pom',
      'acme/libs/core/1.0/core-1.0-tests.jar.sha1',
    ]) {
      const res = await get(`${base}/${path}`, dev.token);
      expect([res.status, res.json().message]).toEqual([404, '404 Package Not Found']);
    }
  });

  it('refuses path traversal, raw and percent-encoded, and stores nothing', async () => {
    const traversals = [
      'acme/libs/../../../../etc/passwd',
      'acme/libs/core/1.0/../../../x/1.0/x-1.0.jar',
      'acme/libs/%2e%2e/1.0/x-1.0.jar',
      'acme/libs/core/1.0/..%2F..%2Fx.jar',
      'acme/libs/core/%2E%2E%2Fmaven-metadata.xml',
      'acme/libs/core/1.0/%2e%2e%5c%2e%2e%5cx.jar',
    ];
    for (const path of traversals) {
      for (const method of ['PUT', 'GET']) {
        const res = await rawRequest(s.url, method, `${base}/${path}`, dev.token, method === 'PUT' ? 'evil' : '');
        expect([path, method, res.status, res.body]).toEqual([
          path,
          method,
          400,
          JSON.stringify({ error: 'path should be a valid file path' }),
        ]);
      }
    }
    const raw = await s.api.inject({ method: 'PUT', url: `${base}/acme/libs/core/1.0/%0d%0ax.jar`, payload: 'x', token: dev.token });
    expect(raw.status).toBe(400);
    expect((await listMaven(project)).map((p) => p.name).sort()).toEqual(['acme/libs/core', 'acme/libs/snap']);
  });

  it('refuses invalid groupId, artifactId, version and file names with 400', async () => {
    const cases: [string, RegExp][] = [
      ['core/1.0/core-1.0.jar', /expected <groupId path>/],
      ['acme/libs/core/1..0/core-1..0.jar', /Version is invalid/],
      ['acme/libs/co+re/1.0/co+re-1.0.jar', /bad artifactId/],
      ['ac+me/core/1.0/core-1.0.jar', /bad groupId/],
      ['acme/libs/core/1.0/other-1.0.jar', /file_name is invalid: expected core-1.0/],
      ['acme/libs/core/1.0/core-1.0 x.jar', /file_name is invalid|valid file path/],
    ];
    for (const [path, message] of cases) {
      const res = await put(path, 'x');
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body).toMatch(message);
    }
    const wrongPom = await put('acme/libs/core/1.2/core-1.2.pom', pom('acme.libs', 'core', '9.9'));
    expect([wrongPom.status, wrongPom.json().error]).toEqual([400, 'pom is invalid: its version is 9.9, the path says 1.2']);
    expect((await put('acme/libs/core/1.2/core-1.2.pom', '<project><artifactId>core</project>')).status).toBe(400);
    expect((await get(`${base}/acme/libs/core/1.2/core-1.2.pom`, dev.token)).status).toBe(404);
  });

  it('refuses malformed maven-metadata.xml and keeps the previous document', async () => {
    const before = (await get(`${base}/acme/libs/core/maven-metadata.xml`, dev.token)).body;
    for (const body of [
      '<metadata><groupId>acme.libs</groupId>',
      'not xml at all',
      '<other/>',
      artifactMetadata('acme.evil', 'core', ['1.0']),
    ]) {
      const res = await put('acme/libs/core/maven-metadata.xml', body);
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^maven-metadata.xml is invalid: /);
    }
    expect((await get(`${base}/acme/libs/core/maven-metadata.xml`, dev.token)).body).toBe(before);
  });

  it('refuses an oversize file with 400 File is too large, whether declared or streamed', async () => {
    const big = Buffer.alloc(MAX_FILE + 1, 7);
    const declared = await put('acme/libs/big/1.0/big-1.0.jar', big);
    expect([declared.status, declared.json().message]).toEqual([400, '400 Bad request - File is too large']);
    const { Readable } = await import('node:stream');
    const chunked = await s.api.inject({
      method: 'PUT',
      url: `${base}/acme/libs/big/1.0/big-1.0.jar`,
      payload: Readable.from([big.subarray(0, 40000), big.subarray(40000)]),
      token: dev.token,
    });
    expect(chunked.status).toBe(400);
    expect((await get(`${base}/acme/libs/big/1.0/big-1.0.jar`, dev.token)).status).toBe(404);
    expect((await listMaven(project)).some((p) => p.name === 'acme/libs/big')).toBe(false);
  });

  it('refuses a duplicate release when duplicates are off, but accepts new classifiers and SNAPSHOTs', async () => {
    await s.api.setPackageSettings({ project: project.id }, { maven_duplicates_allowed: false });
    try {
      const dup = await put(`${dir}/core-1.0.jar`, 'other bytes');
      expect([dup.status, dup.json().message]).toEqual([400, '400 Bad request - Duplicate package is not allowed']);
      expect((await get(`${base}/${dir}/core-1.0.jar`, dev.token)).rawPayload.equals(jar)).toBe(true);
      expect((await put(`${dir}/core-1.0-javadoc.jar`, 'docs')).status).toBe(200);
      expect((await put('acme/libs/snap/2.0-SNAPSHOT/snap-2.0-20260102.111111-2.jar', 'again')).status).toBe(200);
      // The exception regex (matched against name or version) flips the rule.
      await s.api.setPackageSettings({ project: project.id }, { maven_duplicate_exception_regex: '1\\.0' });
      expect((await put(`${dir}/core-1.0-javadoc.jar`, 'docs v2')).status).toBe(200);
      expect((await get(`${base}/${dir}/core-1.0-javadoc.jar`, dev.token)).body).toBe('docs v2');
    } finally {
      await s.api.setPackageSettings({ project: project.id }, { maven_duplicate_exception_regex: '' });
      await s.api.setPackageSettings({ project: project.id }, { maven_duplicates_allowed: true });
    }
  });

  it('applies GitLab access rules: 401 with a Basic challenge, Basic retry, 403, 404 for outsiders, deploy tokens', async () => {
    const url = `${base}/${dir}/core-1.0.jar`;
    const anonymous = await get(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="GitLab Packages Registry"');
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    expect((await get(url, undefined, basic('reporter', reporter.token))).rawPayload.equals(jar)).toBe(true);
    expect((await get(url, undefined, basic('x', 'wrong'))).status).toBe(401);
    expect((await get(url, 'stwpat-invalid')).status).toBe(401);
    const outsiderRes = await get(url, outsider.token);
    expect([outsiderRes.status, outsiderRes.json().message]).toEqual([404, '404 Project Not Found']);
    expect((await put(`${dir}/core-1.0-x.jar`, 'x', reporter.token)).status).toBe(403);
    expect((await s.api.inject({ method: 'PUT', url: `${base}/${dir}/core-1.0-x.jar`, payload: 'x' })).status).toBe(401);

    const readToken = await s.api.createDeployToken({ project: project.id }, ['read_package_registry']);
    const writeToken = await s.api.createDeployToken({ group: group.id }, ['read_package_registry', 'write_package_registry']);
    expect((await get(url, undefined, { 'deploy-token': readToken.token })).status).toBe(200);
    expect(
      (
        await s.api.inject({
          method: 'PUT',
          url: `${base}/${dir}/core-1.0-y.jar`,
          payload: 'y',
          headers: { 'deploy-token': readToken.token },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await s.api.inject({
          method: 'PUT',
          url: `${base}/${dir}/core-1.0-y.jar`,
          payload: 'y',
          headers: { 'deploy-token': writeToken.token },
        })
      ).status,
    ).toBe(200);
    expect(
      (await get(`/api/v4/projects/${other.id}/packages/maven/${dir}/core-1.0.jar`, undefined, { 'deploy-token': readToken.token })).status,
    ).toBe(404);
  });

  it('serves group and instance endpoints from readable projects only', async () => {
    await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${other.id}/packages/maven/acme/other/tool/3.0/tool-3.0.jar`,
      payload: 'tool',
      token: dev.token,
    });
    const g = `/api/v4/groups/${group.id}/-/packages/maven`;
    expect((await get(`${g}/${dir}/core-1.0.jar`, dev.token)).rawPayload.equals(jar)).toBe(true);
    expect((await get(`${g}/${dir}/core-1.0.jar`, reporter.token)).rawPayload.equals(jar)).toBe(true);
    // The reporter is a member of `libs` only: `other` (private) does not exist for them.
    expect((await get(`${g}/acme/other/tool/3.0/tool-3.0.jar`, reporter.token)).status).toBe(404);
    expect((await get(`${g}/acme/other/tool/3.0/tool-3.0.jar`, dev.token)).body).toBe('tool');
    const meta = await get(`${g}/acme/libs/core/maven-metadata.xml`, dev.token);
    expect(meta.body).toContain('<version>1.0</version>');
    expect(meta.headers['x-checksum-sha1']).toBe(hash('sha1', meta.rawPayload));
    expect((await get(`${g}/${dir}/core-1.0.jar`)).status).toBe(401);
    expect((await get(`${g}/${dir}/core-1.0.jar`, outsider.token)).status).toBe(404);

    const i = '/api/v4/packages/maven';
    expect((await get(`${i}/${dir}/core-1.0.jar`, reporter.token)).rawPayload.equals(jar)).toBe(true);
    expect((await get(`${i}/${dir}/core-1.0.jar.sha1`, reporter.token)).body).toBe(hash('sha1', jar));
    expect((await get(`${i}/acme/other/tool/3.0/tool-3.0.jar`, reporter.token)).status).toBe(404);
    expect((await get(`${i}/${dir}/core-1.0.jar`, outsider.token)).status).toBe(404);
    // Anonymous misses at instance level are challenged, so that mvn retries with credentials.
    const anonymous = await get(`${i}/${dir}/core-1.0.jar`);
    expect([anonymous.status, anonymous.headers['www-authenticate']]).toEqual([401, 'Basic realm="GitLab Packages Registry"']);
    // A package outside its project's path is not reachable at instance level.
    await put('org/elsewhere/thing/1.0/thing-1.0.jar', 'thing');
    expect((await get(`${base}/org/elsewhere/thing/1.0/thing-1.0.jar`, dev.token)).body).toBe('thing');
    expect((await get(`${i}/org/elsewhere/thing/1.0/thing-1.0.jar`, dev.token)).status).toBe(404);
  });

  it('keeps one cached maven-metadata.xml per document however many deploys changed it', async () => {
    const documents = s.app.get(RenderedDocuments);
    const before = documents.size;
    const g = `/api/v4/groups/${group.id}/-/packages/maven`;
    const bodies = new Map<string, number>();
    for (let v = 1; v <= 5; v++) {
      expect((await put(`acme/libs/churn/${v}.0/churn-${v}.0.jar`, `build ${v}`)).status).toBe(200);
      for (const url of [`${base}/acme/libs/churn/maven-metadata.xml`, `${g}/acme/libs/churn/maven-metadata.xml`]) {
        const res = await get(url, dev.token);
        expect(res.body).toContain(`<release>${v}.0</release>`);
        bodies.set(url, res.rawPayload.length);
      }
    }
    // The project's document and the group's, each at its last revision: a superseded one is replaced, not kept.
    const current = [...bodies.values()].reduce((n, b) => n + b, 0);
    expect(documents.size - before).toBeGreaterThanOrEqual(current);
    expect(documents.size - before).toBeLessThan(current + 2 * 256);
  });

  it('lets anyone read a public project, answering its misses with a plain 404', async () => {
    const pubGroup = await s.api.createGroup('opensrc', { visibility: 'public' });
    const pub = await s.api.createProject('kit', { namespaceId: pubGroup.id, visibility: 'public' });
    await s.api.addMember({ project: pub.id }, dev.id, 30);
    const url = `/api/v4/projects/${pub.id}/packages/maven/opensrc/kit/kit/1.0/kit-1.0.jar`;
    expect((await s.api.inject({ method: 'PUT', url, payload: 'open', token: dev.token })).status).toBe(200);
    expect((await s.api.inject({ method: 'PUT', url: url.replace('1.0/kit-1.0', '1.1/kit-1.1'), payload: 'x' })).status).toBe(401);
    expect((await get(url)).body).toBe('open');
    expect((await get(`/api/v4/packages/maven/opensrc/kit/kit/1.0/kit-1.0.jar`)).body).toBe('open');
    expect((await get(`/api/v4/groups/opensrc/-/packages/maven/opensrc/kit/kit/1.0/kit-1.0.jar`)).body).toBe('open');
    const miss = await get(url.replace('kit-1.0.jar', 'kit-1.0.pom'));
    expect([miss.status, miss.headers['www-authenticate']]).toEqual([404, undefined]);
  });
});
