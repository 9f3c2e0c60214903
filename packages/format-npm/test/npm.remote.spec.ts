import { randomBytes } from 'node:crypto';

import {
  type FaultProxy,
  type PublishedNpmPackage,
  seedVerdaccio,
  startFaultProxy,
  startTestServer,
  startVerdaccio,
  storedBlobKeys,
  testModes,
  type TestServer,
  type TestUser,
  type Verdaccio,
} from '@stowage/testkit';

import { npmFormat } from '../src';
import { publishBody, publishTo, sha512 } from './npm.fixtures';

// Stowage's npm endpoints in front of a real Verdaccio, behind a FaultProxy that counts what
// reaches the upstream and breaks it on demand.

const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
/** Names each fault test owns, so that none depends on what another fetched. */
const OWN = [
  'fx-cold',
  'fx-slow',
  'fx-corrupt',
  'fx-flaky',
  'fx-crowd',
  'fx-evict',
  'fx-switch',
  'fx-stale',
  'fx-big',
  'fx-warm',
  'fx-shadow',
] as const;

let verdaccio: Verdaccio;
const upstreamDist = new Map<string, { integrity: string; shasum?: string }>();
const upstreamTgz = new Map<string, Buffer>();

beforeAll(async () => {
  verdaccio = await startVerdaccio();
  const published: PublishedNpmPackage[] = await seedVerdaccio(verdaccio.url);
  for (const p of published) upstreamDist.set(`${p.name}@${p.version}`, p);
  for (const name of OWN) {
    // fx-big: random bytes do not compress, so its tarball is over the 8 KiB max_file_size set below.
    const { tgz, integrity } = await publishTo(
      verdaccio.url,
      name,
      '1.0.0',
      name === 'fx-big' ? { 'package/big.bin': randomBytes(16_384) } : {},
    );
    upstreamDist.set(`${name}@1.0.0`, { integrity });
    upstreamTgz.set(name, tgz);
  }
}, 180_000);
afterAll(() => verdaccio?.dispose());

const integrityOf = (name: string, version: string) => upstreamDist.get(`${name}@${version}`)!.integrity;
const tarballPath = (name: string, version = '1.0.0') => `/${name}/-/${name.replace(/^@[^/]+\//, '')}-${version}.tgz`;

interface Fixture {
  s: TestServer;
  proxy: FaultProxy;
  developer: TestUser;
  outsider: TestUser;
  acme: { id: number };
  pub: { id: number };
  priv: { id: number };
}

async function start(mode: ReturnType<typeof testModes>[number], npm: Record<string, unknown>): Promise<Fixture> {
  const proxy = await startFaultProxy(verdaccio.url);
  const s = await startTestServer({
    formats: [npmFormat],
    mode,
    listen: true,
    config: { formats: { npm: { ...npm, upstream: { url: proxy.url, timeout: 2, connect_timeout: 2, ...(npm.upstream as object) } } } },
  });
  const acme = await s.api.createGroup('acme', { visibility: 'public' });
  const pub = await s.api.createProject('pub', { namespaceId: acme.id, visibility: 'public' });
  const priv = await s.api.createProject('priv', { namespaceId: acme.id });
  const developer = await s.api.createUser('developer');
  const outsider = await s.api.createUser('outsider');
  await s.api.addMember({ group: acme.id }, developer.id, 30);
  return { s, proxy, developer, outsider, acme, pub, priv };
}

describe.each(testModes())('npm remote registry over HTTP (%s)', (mode) => {
  let f: Fixture;
  let scopes: [string, string][];

  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    f.s.api.inject({ url, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const remoteFiles = async (name: string) =>
    (await get(`/api/v4/packages/remote_files?package_type=npm&package_name=${encodeURIComponent(name)}`, f.s.rootToken)).json();

  beforeAll(async () => {
    f = await start(mode, { package_requests_forwarding: true });
    scopes = [
      ['project', `/api/v4/projects/${f.pub.id}/packages/npm`],
      ['group', `/api/v4/groups/${f.acme.id}/-/packages/npm`],
      ['instance', '/api/v4/packages/npm'],
    ];
  }, 120_000);
  afterAll(async () => {
    await f?.s.close();
    await f?.proxy.close();
  });
  afterEach(() => f.proxy.reset());

  it('serves an upstream packument at each scope, its tarballs at that scope, from one upstream request', async () => {
    for (const name of ['up-b', '@acme/util']) {
      const versions = name === 'up-b' ? ['1.0.0', '1.1.0'] : ['2.0.0'];
      for (const [scope, prefix] of scopes) {
        const full = await get(`${prefix}/${name.replace('/', '%2f')}`, f.developer.token);
        expect({ scope, status: full.status, type: full.headers['content-type'] }).toEqual({
          scope,
          status: 200,
          type: 'application/json; charset=utf-8',
        });
        const doc = full.json();
        expect(Object.keys(doc.versions)).toEqual(versions);
        expect(doc['dist-tags']).toEqual({ latest: versions.at(-1) });
        for (const v of versions) {
          expect(doc.versions[v].dist).toMatchObject({
            tarball: `${f.s.url}${prefix}/${name}/-/${name}-${v}.tgz`,
            integrity: integrityOf(name, v),
          });
        }

        const corgi = await get(`${prefix}/${name.replace('/', '%2f')}`, f.developer.token, { accept: ABBREVIATED });
        expect(corgi.headers['content-type']).toBe('application/vnd.npm.install-v1+json; charset=utf-8');
        const abbreviated = corgi.json();
        expect(Object.keys(abbreviated).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions']);
        expect(abbreviated.versions[versions[0]]).toEqual({
          name,
          version: versions[0],
          license: 'MIT',
          ...(name === 'up-b' ? { dependencies: { 'up-c': '^1.0.0' } } : {}),
          dist: doc.versions[versions[0]].dist,
        });
        const again = await get(`${prefix}/${name.replace('/', '%2f')}`, f.developer.token, {
          'if-none-match': full.headers.etag as string,
        });
        expect(again.status).toBe(304);
      }
      expect(f.proxy.count(`/${name.replace('/', '%2f')}`)).toBe(1);
    }
  });

  it('serves the tarballs its packuments name, fetched once and verified, and lists them', async () => {
    for (const [scope, prefix] of scopes) {
      const res = await get(`${prefix}/up-b/-/up-b-1.1.0.tgz`, f.developer.token);
      expect({ scope, status: res.status }).toEqual({ scope, status: 200 });
      expect(sha512(res.rawPayload)).toBe(integrityOf('up-b', '1.1.0'));
      const scoped = await get(`${prefix}/@acme/util/-/@acme/util-2.0.0.tgz`, f.developer.token);
      expect(sha512(scoped.rawPayload)).toBe(integrityOf('@acme/util', '2.0.0'));
    }
    expect(f.proxy.count(tarballPath('up-b', '1.1.0'))).toBe(1);
    expect(f.proxy.count('/@acme/util/-/util-2.0.0.tgz')).toBe(1);

    const [listed] = await remoteFiles('up-b');
    expect(listed).toMatchObject({
      package_type: 'npm',
      package_name: 'up-b',
      version: '1.1.0',
      file_name: 'up-b-1.1.0.tgz',
      upstream_url: `${f.proxy.url}/up-b/-/up-b-1.1.0.tgz`,
    });
    const bytes = (await get(`${scopes[0][1]}/up-b/-/up-b-1.1.0.tgz`)).rawPayload;
    expect(listed.size).toBe(bytes.length);
    expect(Date.parse(listed.created_at)).toBeGreaterThan(Date.now() - 60_000);

    // What the packument does not name is not asked for.
    const before = f.proxy.requests.length;
    for (const [, prefix] of scopes) {
      expect((await get(`${prefix}/up-b/-/up-b-9.9.9.tgz`, f.developer.token)).json()).toEqual({ error: '404 Package Not Found' });
      expect((await get(`${prefix}/nowhere/-/nowhere-1.0.0.tgz`, f.developer.token)).status).toBe(404);
      expect((await get(`${prefix}/nowhere`, f.developer.token)).json()).toEqual({ error: '404 Package Not Found' });
    }
    // One packument request for the name the upstream lacks; it is remembered (a 404 is cached for the TTL too).
    expect(f.proxy.requests.slice(before).map((r) => r.path)).toEqual(['/nowhere']);
  });

  it('answers a name held in scope locally, readable or not, and never asks the upstream for it', async () => {
    const name = '@acme/private-thing';
    // npm publish reads the packument first (Npm-Command: publish): about this registry only, never forwarded.
    const privPrefix = `/api/v4/projects/${f.priv.id}/packages/npm`;
    const first = await get(`${privPrefix}/@acme%2fprivate-thing`, f.s.rootToken, { 'npm-command': 'publish' });
    expect(first.json()).toEqual({ error: '404 Package Not Found' });
    const put = await f.s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${f.priv.id}/packages/npm/${name.replace('/', '%2f')}`,
      payload: JSON.stringify(publishBody(name, '1.0.0')),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${f.s.rootToken}` },
    });
    expect(put.status).toBe(200);
    for (const prefix of [privPrefix, scopes[1][1], scopes[2][1]]) {
      const doc = (await get(`${prefix}/@acme%2fprivate-thing`, f.developer.token)).json();
      expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
      expect(doc.versions['1.0.0'].dist.tarball).toBe(`${f.s.url}${privPrefix}/${name}/-/${name}-1.0.0.tgz`);
      expect((await get(`${prefix}/${name}/-/${name}-9.9.9.tgz`, f.developer.token)).status).toBe(404);
    }
    // A sibling project's endpoint (its top-level group holds the name) does not forward it either.
    for (const path of ['@acme%2fprivate-thing', `${name}/-/${name}-9.9.9.tgz`]) {
      expect((await get(`${scopes[0][1]}/${path}`, f.developer.token)).json()).toEqual({ error: '404 Package Not Found' });
    }
    // Those who may not read it get a miss that is not forwarded.
    for (const [, prefix] of scopes.slice(1)) {
      expect((await get(`${prefix}/@acme%2fprivate-thing`, f.outsider.token)).status).toBe(404);
      expect((await get(`${prefix}/@acme%2fprivate-thing`)).status).toBe(401);
      expect((await get(`${prefix}/${name}/-/${name}-9.9.9.tgz`, f.outsider.token)).status).toBe(404);
    }
    expect(f.proxy.count((path) => path.includes('private-thing'))).toBe(0);
  });

  it('a name cached from the upstream, then published in scope, is answered locally only: the cached copies are not served', async () => {
    const [[, pub], [, group]] = scopes;
    expect(Object.keys((await get(`${pub}/fx-shadow`, f.developer.token)).json().versions)).toEqual(['1.0.0']);
    expect(sha512((await get(`${pub}/fx-shadow/-/fx-shadow-1.0.0.tgz`, f.developer.token)).rawPayload)).toBe(
      integrityOf('fx-shadow', '1.0.0'),
    );
    const put = await f.s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${f.priv.id}/packages/npm/fx-shadow`,
      payload: JSON.stringify(publishBody('fx-shadow', '2.0.0')),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${f.s.rootToken}` },
    });
    expect(put.status).toBe(200);
    const before = f.proxy.requests.length;
    // The sibling project holds it now: its endpoint has no such package, cached or not.
    expect((await get(`${pub}/fx-shadow`, f.developer.token)).json()).toEqual({ error: '404 Package Not Found' });
    expect((await get(`${pub}/fx-shadow/-/fx-shadow-1.0.0.tgz`, f.developer.token)).status).toBe(404);
    expect(Object.keys((await get(`${group}/fx-shadow`, f.developer.token)).json().versions)).toEqual(['2.0.0']);
    expect((await get(`${group}/fx-shadow/-/fx-shadow-1.0.0.tgz`, f.developer.token)).status).toBe(404);
    expect(f.proxy.requests.length).toBe(before);
  });

  it('anonymous callers: upstream names through a public project and unscoped at instance scope; a 401 at group scope', async () => {
    for (const prefix of [scopes[0][1], scopes[2][1]]) {
      expect((await get(`${prefix}/up-c`)).status).toBe(200);
      expect(sha512((await get(`${prefix}/up-c/-/up-c-1.0.0.tgz`)).rawPayload)).toBe(integrityOf('up-c', '1.0.0'));
    }
    for (const path of ['up-c', 'up-c/-/up-c-1.0.0.tgz']) {
      const res = await get(`${scopes[1][1]}/${path}`);
      expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'Basic realm="GitLab Packages Registry"']);
    }
  });

  it('upstream down with nothing cached: 502 in npm’s error shape; back up, it is served', async () => {
    await f.proxy.down();
    for (const path of ['fx-cold', 'fx-cold/-/fx-cold-1.0.0.tgz']) {
      const res = await get(`${scopes[0][1]}/${path}`, f.developer.token);
      expect(res.status).toBe(502);
      expect(res.json().error).toMatch(/^502 Bad Gateway - upstream: cannot be reached/);
    }
    await f.proxy.up();
    expect((await get(`${scopes[0][1]}/fx-cold`, f.developer.token)).status).toBe(200);
    expect(sha512((await get(`${scopes[0][1]}/fx-cold/-/fx-cold-1.0.0.tgz`)).rawPayload)).toBe(integrityOf('fx-cold', '1.0.0'));
  });

  it('an upstream slower than `timeout`: 504 without waiting for it, and nothing cached', async () => {
    f.proxy.delay(8_000, '/fx-slow');
    const started = Date.now();
    const res = await get(`${scopes[0][1]}/fx-slow`, f.developer.token);
    expect(res.status).toBe(504);
    expect(res.json().error).toMatch(/^504 Gateway Timeout - upstream: no answer within the configured timeout/);
    expect(Date.now() - started).toBeLessThan(6_000);
    await f.proxy.reset();

    f.proxy.stallBody(tarballPath('fx-slow'), 16);
    expect((await get(`${scopes[0][1]}/fx-slow/-/fx-slow-1.0.0.tgz`, f.developer.token)).status).toBe(504);
    expect(await remoteFiles('fx-slow')).toEqual([]);
    await f.proxy.reset();
    expect(sha512((await get(`${scopes[0][1]}/fx-slow/-/fx-slow-1.0.0.tgz`)).rawPayload)).toBe(integrityOf('fx-slow', '1.0.0'));
  });

  it('a corrupted tarball: 502, nothing kept; the next request fetches it again and keeps it', async () => {
    expect((await get(`${scopes[0][1]}/fx-corrupt`)).status).toBe(200);
    const blobs = await storedBlobKeys(f.s);
    f.proxy.corrupt(tarballPath('fx-corrupt'));
    const res = await get(`${scopes[0][1]}/fx-corrupt/-/fx-corrupt-1.0.0.tgz`, f.developer.token);
    expect(res.status).toBe(502);
    expect(res.json().error).toMatch(/does not match the sha512 the upstream declared/);
    expect(await remoteFiles('fx-corrupt')).toEqual([]);
    expect(await storedBlobKeys(f.s)).toEqual(blobs);

    await f.proxy.reset();
    const ok = await get(`${scopes[0][1]}/fx-corrupt/-/fx-corrupt-1.0.0.tgz`, f.developer.token);
    expect(ok.rawPayload.equals(upstreamTgz.get('fx-corrupt')!)).toBe(true);
    expect(await remoteFiles('fx-corrupt')).toHaveLength(1);
    expect(f.proxy.count(tarballPath('fx-corrupt'))).toBe(2);
  });

  it('an upstream answering 5xx with nothing cached: 502', async () => {
    f.proxy.status('/fx-flaky', 503);
    const res = await get(`${scopes[1][1]}/fx-flaky`, f.developer.token);
    expect([res.status, res.json().error]).toEqual([502, '502 Bad Gateway - upstream: answered 503']);
    await f.proxy.reset();
    expect((await get(`${scopes[1][1]}/fx-flaky`, f.developer.token)).status).toBe(200);
    f.proxy.status(tarballPath('fx-flaky'), 500);
    expect((await get(`${scopes[1][1]}/fx-flaky/-/fx-flaky-1.0.0.tgz`, f.developer.token)).status).toBe(502);
    expect(await remoteFiles('fx-flaky')).toEqual([]);
  });

  it('20 concurrent cold requests for a packument and its tarball make one upstream request for each', async () => {
    const gate = f.proxy.gate(tarballPath('fx-crowd'), 0);
    const prefix = scopes[0][1];
    const all = Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        get(`${prefix}/fx-crowd`, f.developer.token, i % 2 ? { accept: ABBREVIATED } : {}),
        get(`${prefix}/fx-crowd/-/fx-crowd-1.0.0.tgz`, f.developer.token),
      ]).flat(),
    );
    await gate.reached;
    gate.release();
    const answers = await all;
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    for (const r of answers.filter((_, i) => i % 2)) expect(r.rawPayload.equals(upstreamTgz.get('fx-crowd')!)).toBe(true);
    expect([f.proxy.count('/fx-crowd'), f.proxy.count(tarballPath('fx-crowd'))]).toEqual([1, 1]);
  });

  it('the admin API removes cached files, and the next request fetches them again', async () => {
    const url = `${scopes[0][1]}/fx-evict/-/fx-evict-1.0.0.tgz`;
    expect((await get(url)).status).toBe(200);
    const [listed] = await remoteFiles('fx-evict');
    const del = (path: string, token = f.s.rootToken) =>
      f.s.api.inject({ method: 'DELETE', url: `/api/v4/packages/remote_files${path}`, headers: { authorization: `Bearer ${token}` } });
    expect((await del(`/${listed.id}`, f.developer.token)).status).toBe(403);
    expect((await del(`/${listed.id}`)).status).toBe(204);
    expect(await remoteFiles('fx-evict')).toEqual([]);
    expect((await get(url)).rawPayload.equals(upstreamTgz.get('fx-evict')!)).toBe(true);
    expect(f.proxy.count(tarballPath('fx-evict'))).toBe(2);

    // By name: its files and its packument go, so both are fetched again.
    expect((await del('?package_type=npm&package_name=fx-evict')).json()).toEqual({
      removed_files: 1,
      removed_bytes: upstreamTgz.get('fx-evict')!.length,
    });
    expect((await get(url)).status).toBe(200);
    expect([f.proxy.count('/fx-evict'), f.proxy.count(tarballPath('fx-evict'))]).toEqual([2, 3]);
  });

  it('the forwarding switch: a group turns it off (404) and on again; a parent group’s lock holds', async () => {
    const settings = (groupId: number, body: Record<string, unknown>) =>
      f.s.api.inject({
        method: 'PUT',
        url: `/api/v4/groups/${groupId}/package_settings`,
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${f.s.rootToken}` },
      });
    const team = await f.s.api.createGroup('team', { parentId: f.acme.id, visibility: 'public' });
    const teamPrefix = `/api/v4/groups/${team.id}/-/packages/npm`;
    expect((await get(`${scopes[1][1]}/fx-switch`, f.developer.token)).status).toBe(200);

    expect((await settings(f.acme.id, { npm_package_requests_forwarding: false })).status).toBe(200);
    for (const prefix of [scopes[0][1], scopes[1][1], teamPrefix]) {
      expect((await get(`${prefix}/fx-switch`, f.developer.token)).json()).toEqual({ error: '404 Package Not Found' });
      expect((await get(`${prefix}/fx-switch/-/fx-switch-1.0.0.tgz`, f.developer.token)).status).toBe(404);
    }
    expect((await get(`${scopes[2][1]}/fx-switch`, f.developer.token)).status).toBe(200); // the instance default
    // A subgroup overrides its parent, unless the parent locks it.
    expect((await settings(team.id, { npm_package_requests_forwarding: true })).status).toBe(200);
    expect((await get(`${teamPrefix}/fx-switch`, f.developer.token)).status).toBe(200);
    expect((await settings(f.acme.id, { lock_npm_package_requests_forwarding: true })).status).toBe(200);
    expect((await get(`${teamPrefix}/fx-switch`, f.developer.token)).status).toBe(404);
    expect((await settings(team.id, { npm_package_requests_forwarding: true })).status).toBe(400);
    expect((await get(`/api/v4/groups/${team.id}/package_settings`, f.s.rootToken)).json()).toMatchObject({
      npm_package_requests_forwarding: false,
      npm_package_requests_forwarding_locked: true,
    });

    expect((await settings(f.acme.id, { npm_package_requests_forwarding: true, lock_npm_package_requests_forwarding: false })).status).toBe(
      200,
    );
    expect((await get(`${scopes[1][1]}/fx-switch`, f.developer.token)).status).toBe(200);
    expect(f.proxy.count('/fx-switch')).toBe(1);
  });
});

// The metadata TTL, in one mode: revalidation and stale copies only touch remote_documents.
describe('npm remote packuments past their TTL', () => {
  let f: Fixture;
  const ttl = 1;
  const passTtl = () => new Promise((resolve) => setTimeout(resolve, ttl * 1000 + 100));
  const get = (url: string, headers: Record<string, string> = {}) =>
    f.s.api.inject({ url, headers: { authorization: `Bearer ${f.developer.token}`, ...headers } });

  beforeAll(async () => {
    f = await start(testModes()[0], { package_requests_forwarding: false, max_file_size: 8192, upstream: { metadata_ttl: ttl } });
  }, 120_000);
  afterAll(async () => {
    await f?.s.close();
    await f?.proxy.close();
  });

  it('off at the instance: 404 and no upstream request, until a group turns it on', async () => {
    expect((await get('/api/v4/packages/npm/fx-stale')).status).toBe(404);
    expect((await get(`/api/v4/projects/${f.pub.id}/packages/npm/fx-stale`)).status).toBe(404);
    expect(f.proxy.requests).toHaveLength(0);
    await f.s.api.setPackageSettings({ group: f.acme.id }, { npm_package_requests_forwarding: true });
    expect((await get(`/api/v4/projects/${f.pub.id}/packages/npm/fx-stale`)).status).toBe(200);
    expect((await get('/api/v4/packages/npm/fx-stale')).status).toBe(404);
  });

  it('revalidates after the TTL, and serves the last copy with a warning while the upstream fails', async () => {
    const prefix = `/api/v4/projects/${f.pub.id}/packages/npm`;
    const first = await get(`${prefix}/fx-stale`);
    expect(first.headers.warning).toBeUndefined();
    const fetched = f.proxy.count('/fx-stale');
    await passTtl();
    expect((await get(`${prefix}/fx-stale`)).status).toBe(200);
    expect(f.proxy.count('/fx-stale')).toBe(fetched + 1);

    await passTtl();
    f.proxy.status('/fx-stale', 503);
    for (const accept of [{}, { accept: ABBREVIATED }] as Record<string, string>[]) {
      const stale = await get(`${prefix}/fx-stale`, accept);
      expect([stale.status, stale.headers.warning]).toEqual([200, '111 stowage "Revalidation Failed"']);
      expect(Object.keys(stale.json().versions)).toEqual(['1.0.0']);
    }
    // Its tarball, never fetched, cannot be had meanwhile; once the upstream is back, it is.
    f.proxy.status(tarballPath('fx-stale'), 503);
    expect((await get(`${prefix}/fx-stale/-/fx-stale-1.0.0.tgz`)).status).toBe(502);
    await f.proxy.reset();
    expect(sha512((await get(`${prefix}/fx-stale/-/fx-stale-1.0.0.tgz`)).rawPayload)).toBe(integrityOf('fx-stale', '1.0.0'));

    await f.proxy.down();
    const down = await get(`${prefix}/fx-stale`);
    expect([down.status, down.headers.warning]).toEqual([200, '111 stowage "Revalidation Failed"']);
    expect(sha512((await get(`${prefix}/fx-stale/-/fx-stale-1.0.0.tgz`)).rawPayload)).toBe(integrityOf('fx-stale', '1.0.0'));
    expect((await get(`${prefix}/up-a`)).status).toBe(502);
    await f.proxy.up();
  });

  it('a cached tarball is answered from its row alone: past the TTL, nothing is asked of the upstream', async () => {
    const tarball = `/api/v4/projects/${f.pub.id}/packages/npm/fx-warm/-/fx-warm-1.0.0.tgz`;
    expect(sha512((await get(tarball)).rawPayload)).toBe(integrityOf('fx-warm', '1.0.0'));
    expect([f.proxy.count('/fx-warm'), f.proxy.count(tarballPath('fx-warm'))]).toEqual([1, 1]);
    await passTtl();
    const before = f.proxy.requests.length;
    const warm = await get(tarball);
    expect([warm.status, sha512(warm.rawPayload)]).toEqual([200, integrityOf('fx-warm', '1.0.0')]);
    // A handler that went on after answering (it once read a sent reply as "not cached" and
    // revalidated the packument) would ask the upstream within milliseconds; give it a second.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(f.proxy.requests.slice(before).map((r) => r.path)).toEqual([]);
  });

  it('an upstream tarball over max_file_size: 502, nothing kept', async () => {
    const prefix = `/api/v4/projects/${f.pub.id}/packages/npm`;
    expect(upstreamTgz.get('fx-big')!.length).toBeGreaterThan(8192);
    const res = await get(`${prefix}/fx-big/-/fx-big-1.0.0.tgz`);
    expect([res.status, res.json().error]).toEqual([
      502,
      '502 Bad Gateway - upstream: fx-big-1.0.0.tgz is larger than max_file_size (8192 bytes)',
    ]);
    expect(
      (
        await f.s.api.inject({
          url: '/api/v4/packages/remote_files?package_type=npm&package_name=fx-big',
          headers: { authorization: `Bearer ${f.s.rootToken}` },
        })
      ).json(),
    ).toEqual([]);
  });
});
