import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, PackageService } from '../src';
import { FIXTURE, fixtureFormat, fixturePath } from './remote-fixture';
import { startUpstream, type TestUpstream } from './remote-support';

// GitLab's package requests forwarding as a user sees it: the instance default
// (formats.fixture.package_requests_forwarding), a group's override and lock through its
// package settings, and the rule that a name any project in scope holds is answered locally
// and never sent upstream, whoever asks (dependency confusion).

const SETTING = `${FIXTURE}_package_requests_forwarding`;
const LOCK = `lock_${SETTING}`;
const LOCKED = `${SETTING}_locked`;

describe.each(testModes())('package requests forwarding (%s)', (mode) => {
  let s: TestServer;
  let up: TestUpstream;
  let outsider: TestUser;
  let reader: TestUser;
  let open: { id: number }; // public group: public project `pub`, private project `priv` holding `secret`
  let pub: TestProject;
  let priv: TestProject;

  const index = (at: Parameters<typeof fixturePath>[0], name: string, token = s.rootToken) =>
    s.api.inject({ url: fixturePath(at, `${name}/index.json`), token });
  const settings = async (group: number) =>
    (await s.api.inject({ url: `/api/v4/groups/${group}/package_settings`, token: s.rootToken })).json();
  const put = (group: number, payload: Record<string, unknown>, token = s.rootToken) =>
    s.api.inject({ method: 'PUT', url: `/api/v4/groups/${group}/package_settings`, payload, token });

  beforeAll(async () => {
    up = await startUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      config: { formats: { fixture: { package_requests_forwarding: true, upstream: { url: up.proxy.url } } } },
    });
    for (const name of ['common', 'secret', 'elsewhere']) await up.tree.publish(name, { [`${name}.bin`]: Buffer.from(name) });
    outsider = await s.api.createUser('outsider');
    reader = await s.api.createUser('reader');
    open = await s.api.createGroup('open', { visibility: 'public' });
    pub = await s.api.createProject('pub', { namespaceId: open.id, visibility: 'public' });
    priv = await s.api.createProject('priv', { namespaceId: open.id, visibility: 'private' });
    await s.api.addMember({ project: priv.id }, reader.id, AccessLevel.REPORTER);
    await s.app
      .get(PackageService)
      .write((w) => w.upsertPackage({ projectId: priv.id, packageType: FIXTURE, name: 'secret', version: '1.0.0' }));
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('with the instance default on, a name nobody holds is forwarded at instance, group and project scope', async () => {
    for (const at of ['instance', { group: open.id }, { project: pub.id }] as const) {
      const res = await index(at, 'common');
      expect({ at, status: res.status, source: res.json().source }).toEqual({ at, status: 200, source: 'upstream' });
    }
    expect(await settings(open.id)).toMatchObject({ [SETTING]: true, [LOCK]: false, [LOCKED]: false });
  });

  it("a group's override switches forwarding off for its tree only, and back on", async () => {
    const group = await s.api.createGroup('quiet', { visibility: 'public' });
    const sub = await s.api.createGroup('inner', { parentId: group.id, visibility: 'public' });
    const project = await s.api.createProject('app', { namespaceId: sub.id, visibility: 'public' });
    const res = await put(group.id, { [SETTING]: false });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ [SETTING]: false, [LOCK]: false, [LOCKED]: false });
    expect(await settings(sub.id)).toMatchObject({ [SETTING]: false, [LOCKED]: false });

    const before = up.count('/elsewhere/index.json');
    for (const at of [{ group: group.id }, { group: sub.id }, { project: project.id }])
      expect((await index(at, 'elsewhere')).status).toBe(404);
    expect(up.count('/elsewhere/index.json')).toBe(before);
    expect((await index('instance', 'elsewhere')).status).toBe(200);

    // The subgroup may override its parent where nothing is locked.
    expect((await put(sub.id, { [SETTING]: true })).status).toBe(200);
    expect((await index({ project: project.id }, 'elsewhere')).status).toBe(200);
    expect((await index({ group: group.id }, 'elsewhere')).status).toBe(404);
  });

  it("a parent group's lock holds its descendants: their own value is ignored and their PUT is a 400", async () => {
    const parent = await s.api.createGroup('strict', { visibility: 'public' });
    const child = await s.api.createGroup('kid', { parentId: parent.id, visibility: 'public' });
    expect((await put(child.id, { [SETTING]: true })).status).toBe(200);
    const locked = await put(parent.id, { [SETTING]: false, [LOCK]: true });
    expect(locked.status).toBe(200);
    expect(locked.json()).toMatchObject({ [SETTING]: false, [LOCK]: true, [LOCKED]: false });
    expect(await settings(child.id)).toMatchObject({ [SETTING]: false, [LOCK]: false, [LOCKED]: true });
    expect((await index({ group: child.id }, 'common')).status).toBe(404);

    const refused = await put(child.id, { [SETTING]: true });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({ error: `${SETTING} is locked by an ancestor group or the instance` });
    // A refused request changes nothing, its other settings included.
    const mixed = await put(child.id, { [SETTING]: true, [`${FIXTURE}_duplicates_allowed`]: false });
    expect(mixed.status).toBe(400);
    expect(await settings(child.id)).toMatchObject({ [SETTING]: false, [`${FIXTURE}_duplicates_allowed`]: true });

    // Unlocked, the child's own value is in force again.
    expect((await put(parent.id, { [LOCK]: false })).status).toBe(200);
    expect(await settings(child.id)).toMatchObject({ [SETTING]: true, [LOCKED]: false });
    expect((await index({ group: child.id }, 'common')).status).toBe(200);
  });

  it('a refused settings value changes no forwarding switch', async () => {
    const group = await s.api.createGroup('careful', { visibility: 'public' });
    const res = await put(group.id, { [SETTING]: false, [`${FIXTURE}_duplicate_exception_regex`]: '(' });
    expect(res.status).toBe(400);
    expect(await settings(group.id)).toMatchObject({ [SETTING]: true });
  });

  it('only an owner changes the switch', async () => {
    const group = await s.api.createGroup('owned', { visibility: 'public' });
    await s.api.addMember({ group: group.id }, reader.id, AccessLevel.MAINTAINER);
    expect((await put(group.id, { [SETTING]: false }, reader.token)).status).toBe(403);
    expect(await settings(group.id)).toMatchObject({ [SETTING]: true });
  });

  it('a name a private project in scope holds is never forwarded, even for a caller who cannot read it', async () => {
    // The sibling project's endpoint too: the name belongs to the organization (the top-level group).
    for (const at of ['instance', { group: open.id }, { project: pub.id }] as const) {
      const res = await index(at, 'secret', outsider.token);
      expect({ at, status: res.status }).toEqual({ at, status: 404 });
      const file = await s.api.inject({ url: fixturePath(at, 'secret/files/secret.bin'), token: outsider.token });
      expect({ at, status: file.status }).toEqual({ at, status: 404 });
    }
    expect(up.proxy.requests.filter((r) => r.path.startsWith('/secret/'))).toEqual([]);

    // Who may read the project gets the local package.
    const local = await index({ group: open.id }, 'secret', reader.token);
    expect(local.status).toBe(200);
    expect(local.json()).toEqual({ source: 'local', versions: ['1.0.0'] });
    expect(up.proxy.requests.filter((r) => r.path.startsWith('/secret/'))).toEqual([]);
  });
});

describe('package requests forwarding in redirect mode, locked by the instance', () => {
  let s: TestServer;
  let up: TestUpstream;

  beforeAll(async () => {
    up = await startUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode: testModes()[0],
      config: {
        formats: {
          fixture: {
            package_requests_forwarding: true,
            lock_package_requests_forwarding: true,
            upstream: { url: `${up.proxy.url}/base/`, mode: 'redirect' },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('answers a name nobody holds with a 302 to the same path at the upstream, which it never asks itself', async () => {
    for (const rest of ['common/index.json', 'common/files/common.bin']) {
      const res = await s.api.inject({ url: fixturePath('instance', rest), token: s.rootToken });
      expect(res.status).toBe(302);
    }
    const index = await s.api.inject({ url: fixturePath('instance', 'common/index.json'), token: s.rootToken });
    expect(index.headers.location).toBe(`${up.proxy.url}/base/common/index.json`);
    expect(up.proxy.requests).toEqual([]);
  });

  it('no group may change a switch the instance locked', async () => {
    const group = await s.api.createGroup('team');
    const put = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/groups/${group.id}/package_settings`,
      payload: { [SETTING]: false },
      token: s.rootToken,
    });
    expect(put.status).toBe(400);
    const settings = await s.api.inject({ url: `/api/v4/groups/${group.id}/package_settings`, token: s.rootToken });
    expect(settings.json()).toMatchObject({ [SETTING]: true, [LOCKED]: true });
  });
});
