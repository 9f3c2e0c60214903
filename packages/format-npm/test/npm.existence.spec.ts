import { http, type HttpResult, startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { npmFormat } from '../src';
import { publishBody } from './npm.fixtures';

const FORWARD = 'https://registry.example.test';

// At group and instance scope the answer for a package the caller may not read must be the
// answer for one that does not exist: status, headers that matter, body.
describe.each(testModes())('npm: private packages do not show through group and instance scope (%s)', (mode) => {
  describe.each([false, true])('forwarding %s', (forwarding) => {
    let s: TestServer;
    let outsider: TestUser;
    let guest: TestUser;
    let groupId: number;

    const answer = (res: HttpResult) => ({
      status: res.status,
      challenge: res.headers['www-authenticate'],
      location: res.headers.location,
      body: res.text,
    });
    const get = async (path: string, token?: string) =>
      answer(await http(s.url, { path, follow: false, headers: token ? { authorization: `Bearer ${token}` } : {} }));
    const put = async (path: string, token: string | undefined, body: string) =>
      answer(
        await http(s.url, {
          method: 'PUT',
          path,
          body,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        }),
      );

    beforeAll(async () => {
      s = await startTestServer({
        formats: [npmFormat],
        mode,
        listen: true,
        config: { formats: { npm: { package_requests_forwarding: forwarding, upstream: { url: FORWARD, mode: 'redirect' } } } },
      });
      const group = await s.api.createGroup('open', { visibility: 'public' });
      groupId = group.id;
      const pub = await s.api.createProject('pub', { namespaceId: group.id, visibility: 'public' });
      const secret = await s.api.createProject('secret', { namespaceId: group.id });
      outsider = await s.api.createUser('outsider');
      guest = await s.api.createUser('guest');
      await s.api.addMember({ project: pub.id }, guest.id, 10);
      for (const [project, name] of [
        [secret, '@open/hidden'],
        [pub, '@open/visible'],
      ] as const) {
        const res = await http(s.url, {
          method: 'PUT',
          path: `/api/v4/projects/${project.id}/packages/npm/${name.replace('/', '%2f')}`,
          token: s.rootToken,
          body: JSON.stringify(publishBody(name, '1.0.0')),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status).toBe(200);
      }
    });
    afterAll(() => s?.close());

    const prefixes = () => ({ group: `/api/v4/groups/${groupId}/-/packages/npm`, instance: '/api/v4/packages/npm' });
    const callers = () => ({ anonymous: undefined, outsider: outsider.token, guest: guest.token });

    it.each(['group', 'instance'] as const)(
      '%s packument, dist-tags list and dist-tag change: hidden = absent, for each caller',
      async (scope) => {
        const prefix = prefixes()[scope];
        for (const [who, token] of Object.entries(callers())) {
          const hidden = {
            packument: await get(`${prefix}/@open%2fhidden`, token),
            tags: await get(`${prefix}/-/package/@open%2fhidden/dist-tags`, token),
            tag: await put(`${prefix}/-/package/@open%2fhidden/dist-tags/beta`, token, '"1.0.0"'),
          };
          const absent = {
            packument: await get(`${prefix}/@open%2fabsent`, token),
            tags: await get(`${prefix}/-/package/@open%2fabsent/dist-tags`, token),
            tag: await put(`${prefix}/-/package/@open%2fabsent/dist-tags/beta`, token, '"1.0.0"'),
          };
          expect({ who, tags: hidden.tags, tag: hidden.tag }).toEqual({ who, tags: absent.tags, tag: absent.tag });
          if (forwarding && token !== undefined) {
            // A name held in scope is never forwarded, whoever asks (dependency confusion), so
            // here a signed-in caller tells a hidden name (404) from an absent one (302).
            const answers = [hidden.packument.status, absent.packument.status, absent.packument.location];
            expect({ who, answers }).toEqual({ who, answers: [404, 302, `${FORWARD}/@open%2fabsent`] });
          } else {
            expect({ who, ...hidden.packument }).toEqual({ who, ...absent.packument });
            expect({ who, status: hidden.packument.status }).toEqual({ who, status: token === undefined ? 401 : 404 });
          }
          if (token === undefined) expect(hidden.packument.challenge).toBe('Basic realm="GitLab Packages Registry"');
        }
      },
    );

    it('tarballs at group and instance scope: hidden = absent, and never forwarded in redirect mode', async () => {
      for (const prefix of Object.values(prefixes())) {
        for (const [who, token] of Object.entries(callers())) {
          const hidden = await get(`${prefix}/@open%2fhidden/-/@open/hidden-1.0.0.tgz`, token);
          const absent = await get(`${prefix}/@open%2fabsent/-/@open/absent-1.0.0.tgz`, token);
          expect({ who, ...hidden, body: hidden.body.replace('hidden', 'absent') }).toEqual({ who, ...absent });
          expect({ who, status: hidden.status }).toEqual({ who, status: token === undefined ? 401 : 404 });
        }
      }
    });

    it('what the caller may read is still served at both scopes', async () => {
      for (const prefix of Object.values(prefixes())) {
        for (const token of Object.values(callers())) {
          const res = await http(s.url, { path: `${prefix}/@open%2fvisible`, headers: token ? { authorization: `Bearer ${token}` } : {} });
          expect([res.status, Object.keys(res.json().versions)]).toEqual([200, ['1.0.0']]);
        }
        const root = await http(s.url, { path: `${prefix}/@open%2fhidden`, token: s.rootToken });
        expect(root.status).toBe(200);
      }
    });
  });
});
