import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { localStorage } from '@stowage/storage-local';
import { type InjectResult, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, createStowageApp } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// GitLab's package registry rate limits (issue 19, item 7): off by default; anonymous requests
// per client address and authenticated ones per user, over every package route; 429 with
// Retry-After, GitLab's RateLimit-* headers and its plain-text body; shared by the servers of
// one Redis.

const LIMIT = 5;
const PERIOD = 60;

const limits = {
  rate_limits: {
    throttle_unauthenticated_packages_api_enabled: true,
    throttle_unauthenticated_packages_api_requests_per_period: LIMIT,
    throttle_unauthenticated_packages_api_period_in_seconds: PERIOD,
    throttle_authenticated_packages_api_enabled: true,
    throttle_authenticated_packages_api_requests_per_period: LIMIT,
    throttle_authenticated_packages_api_period_in_seconds: PERIOD,
  },
  // The client address is the last X-Forwarded-For entry: each test plays its own clients.
  server: { trust_proxy: true },
};

type Caller = { ip: string; token?: string; headers?: Record<string, string> };

async function get(app: NestFastifyApplication, url: string, who: Caller): Promise<InjectResult> {
  const headers: Record<string, string> = { 'x-forwarded-for': who.ip, ...who.headers };
  if (who.token) headers['private-token'] = who.token;
  const res = await app.inject({ method: 'GET', url, headers });
  return {
    status: res.statusCode,
    headers: res.headers as InjectResult['headers'],
    body: res.body,
    rawPayload: res.rawPayload,
    json: () => JSON.parse(res.body),
  };
}

/** The statuses of `n` calls made one after another. */
async function statuses(n: number, call: () => Promise<InjectResult>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call()).status);
  return out;
}

describe.each(testModes())('package rate limits (%s)', (mode) => {
  describe('off by default', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({ mode, listen: false, formats: [genericFormat] });
    });
    afterAll(() => s?.close());

    it('answers far past GitLab’s default limits without a 429', async () => {
      const project = await s.api.createProject('open', { visibility: 'public' });
      const codes = await statuses(60, () => get(s.app, `/api/v4/projects/${project.id}/packages`, { ip: '10.0.0.1' }));
      expect(new Set(codes)).toEqual(new Set([200]));
    });
  });

  describe('enabled', () => {
    let s: TestServer;
    let project: TestProject;
    let alice: TestUser;
    let aliceSecond: string;
    let bob: TestUser;
    const file = (project: TestProject) => genericPath(project.id, 'tool/1.0.0/tool.txt');
    const list = (project: TestProject) => `/api/v4/projects/${project.id}/packages`;

    beforeAll(async () => {
      s = await startTestServer({ mode, listen: false, formats: [genericFormat], config: limits });
      project = await s.api.createProject('open', { visibility: 'public' });
      const put = await s.api.inject({ method: 'PUT', url: file(project), token: s.rootToken, payload: Buffer.from('hello') });
      expect(put.status).toBe(201);
      alice = await s.api.createUser('alice');
      aliceSecond = await s.api.createToken(alice.id, ['read_api']);
      bob = await s.api.createUser('bob');
    });
    afterAll(() => s?.close());

    it(`answers the anonymous request past ${LIMIT} per period from one address with GitLab’s 429`, async () => {
      const who = { ip: '10.0.1.1' };
      // Format routes and the Packages API count in one bucket.
      expect(await statuses(3, () => get(s.app, file(project), who))).toEqual([200, 200, 200]);
      expect(await statuses(2, () => get(s.app, list(project), who))).toEqual([200, 200]);
      const before = Date.now();
      const refused = await get(s.app, file(project), who);
      expect(refused.status).toBe(429);
      expect(refused.body).toBe('Retry later\n');
      expect(refused.headers['content-type']).toMatch(/^text\/plain/);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(PERIOD);
      expect(refused.headers).toMatchObject({
        'ratelimit-name': 'throttle_unauthenticated_packages_api',
        'ratelimit-limit': String(LIMIT), // per minute, as GitLab states it: 5 per 60 s
        'ratelimit-observed': String(LIMIT + 1),
        'ratelimit-remaining': '0',
      });
      const reset = Number(refused.headers['ratelimit-reset']) * 1000;
      expect(reset).toBeGreaterThan(before);
      expect(reset).toBeLessThanOrEqual(Date.now() + PERIOD * 1000 + 1000);
      expect(new Date(String(refused.headers['ratelimit-resettime'])).getTime()).toBe(reset);
      // Still refused: every later request in the period counts.
      expect((await get(s.app, list(project), who)).status).toBe(429);
      // Another address has its own bucket.
      expect((await get(s.app, file(project), { ip: '10.0.1.2' })).status).toBe(200);
    });

    it('does not count or refuse health checks, the web UI or the admin API', async () => {
      const who = { ip: '10.0.2.1' };
      expect(await statuses(LIMIT + 1, () => get(s.app, file(project), who))).toEqual([200, 200, 200, 200, 200, 429]);
      expect((await get(s.app, '/-/liveness', who)).status).not.toBe(429);
      expect((await get(s.app, '/', who)).status).toBe(200);
      expect((await get(s.app, '/-/sign_in', who)).status).toBe(200);
      expect((await get(s.app, `/api/v4/projects/${project.id}`, who)).status).toBe(200);
    });

    it('takes the address the trusted proxy appended, not one the client wrote before it', async () => {
      const codes = await statuses(LIMIT + 1, async () =>
        get(s.app, file(project), { ip: `192.0.2.${Math.floor(Math.random() * 250)}, 10.0.3.1` }),
      );
      expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
    });

    it('counts requests with refused credentials as anonymous ones of their address', async () => {
      const who = { ip: '10.0.4.1', token: 'stwpat-not-a-real-token-at-all' };
      expect(await statuses(LIMIT + 1, () => get(s.app, file(project), who))).toEqual([401, 401, 401, 401, 401, 429]);
      expect((await get(s.app, file(project), { ip: '10.0.4.1' })).status).toBe(429);
    });

    it('counts a user’s requests in one bucket whatever token and address, apart from other users and deploy tokens', async () => {
      const codes = [
        ...(await statuses(3, () => get(s.app, file(project), { ip: '10.0.5.1', token: alice.token }))),
        ...(await statuses(2, () => get(s.app, list(project), { ip: '10.0.5.2', token: aliceSecond }))),
      ];
      expect(codes).toEqual([200, 200, 200, 200, 200]);
      const refused = await get(s.app, file(project), { ip: '10.0.5.3', token: aliceSecond });
      expect(refused.status).toBe(429);
      expect(refused.headers['ratelimit-name']).toBe('throttle_authenticated_packages_api');
      expect(refused.body).toBe('Retry later\n');

      // Bob, a deploy token and anonymous callers from alice's addresses are not in her bucket.
      expect((await get(s.app, file(project), { ip: '10.0.5.1', token: bob.token })).status).toBe(200);
      const deploy = await s.api.createDeployToken({ project: project.id }, ['read_package_registry']);
      expect((await get(s.app, file(project), { ip: '10.0.5.1', headers: { 'deploy-token': deploy.token } })).status).toBe(200);
      expect((await get(s.app, file(project), { ip: '10.0.5.1' })).status).toBe(200);
    });

    it('counts uploads too, and a 429 stops an upload before its body is stored', async () => {
      const carol = await s.api.createUser('carol');
      await s.api.addMember({ project: project.id }, carol.id, AccessLevel.DEVELOPER);
      const upload = (n: number) =>
        s.app.inject({
          method: 'PUT',
          url: genericPath(project.id, `carol/1.0.${n}/f.txt`),
          headers: { 'private-token': carol.token, 'x-forwarded-for': '10.0.6.1' },
          payload: Buffer.from(`file ${n}`),
        });
      const codes: number[] = [];
      for (let n = 0; n <= LIMIT; n++) codes.push((await upload(n)).statusCode);
      expect(codes).toEqual([201, 201, 201, 201, 201, 429]);
      const listed = await s.api.root<{ version: string }[]>('GET', `${list(project)}?package_name=carol&per_page=100`);
      expect(listed.map((p) => p.version).sort()).toEqual(['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4']);
    });
  });

  if (mode === 'postgres') {
    describe('two servers on one Redis', () => {
      let s: TestServer;
      let second: NestFastifyApplication;
      beforeAll(async () => {
        s = await startTestServer({ mode, listen: false, formats: [genericFormat], config: limits });
        second = await createStowageApp({
          config: s.config,
          formats: [genericFormat],
          storages: [localStorage],
          processJobs: false,
          rootBootstrap: { rootToken: s.rootToken, announce: () => undefined },
        });
      });
      afterAll(async () => {
        await second?.close();
        await s?.close();
      });

      it('share each caller’s count', async () => {
        const project = await s.api.createProject('shared', { visibility: 'public' });
        const url = `/api/v4/projects/${project.id}/packages`;
        const dave = await s.api.createUser('dave');
        const codes = [
          ...(await statuses(3, () => get(s.app, url, { ip: '10.1.0.1' }))),
          ...(await statuses(2, () => get(second, url, { ip: '10.1.0.1' }))),
          ...(await statuses(3, () => get(second, url, { ip: '10.1.0.2', token: dave.token }))),
          ...(await statuses(2, () => get(s.app, url, { ip: '10.1.0.3', token: dave.token }))),
        ];
        expect(codes).toEqual(Array(10).fill(200));
        expect((await get(s.app, url, { ip: '10.1.0.1' })).status).toBe(429);
        expect((await get(second, url, { ip: '10.1.0.1' })).status).toBe(429);
        expect((await get(second, url, { ip: '10.1.0.4', token: dave.token })).status).toBe(429);
        expect((await get(s.app, url, { ip: '10.1.0.4', token: dave.token })).status).toBe(429);
      });
    });
  }
});
