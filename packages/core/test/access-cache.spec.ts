import { genericFormat } from '@stowage/format-generic';
import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';
import { DataSource } from 'typeorm';

// Who a request is and what it may reach is kept in memory per process (tokens, projects,
// groups, member levels) and dropped when the database announces a change to those tables.
// Each change here is made while the old answer is cached (the request before it), and the
// request after it must see the change: through the API, and through plain SQL as an
// operator might write it.

describe.each(testModes())('access caches (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let project: { id: number; path: string };
  const sql = (q: string, params: unknown[] = []) => s.app.get(DataSource).query(q, params);
  const file = () => `/api/v4/projects/${project.id}/packages/generic/cached/1.0.0/file.txt`;
  const read = (token?: string) => s.api.inject({ url: file(), token });
  /** Reads twice, so the answer is cached before the change that follows. */
  const readCached = async (token?: string) => {
    const first = await read(token);
    expect((await read(token)).status).toBe(first.status);
    return first.status;
  };
  const epoch = async () => Number((await sql('SELECT epoch FROM access_epoch'))[0].epoch);
  /** Whether `fn` moved the access epoch. */
  const moves = async (fn: () => Promise<unknown>): Promise<boolean> => {
    const before = await epoch();
    await fn();
    return (await epoch()) !== before;
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode });
    dev = await s.api.createUser('dev');
  });
  afterAll(() => s?.close());
  beforeEach(async () => {
    const path = `p${Math.random().toString(36).slice(2, 8)}`;
    project = { ...(await s.api.createProject(path, { visibility: 'private' })), path };
    await s.api.addMember({ project: project.id }, dev.id, 30);
    const put = await s.api.inject({ method: 'PUT', url: file(), token: dev.token, payload: 'bytes' });
    expect(put.status).toBe(201);
  });

  it('a revoked token stops working at once', async () => {
    const token = await s.api.createToken(dev.id, ['api']);
    expect(await readCached(token)).toBe(200);
    const [{ id }] = await sql('SELECT id FROM tokens WHERE user_id = $1 ORDER BY id DESC LIMIT 1', [dev.id]);
    expect((await s.api.inject({ method: 'DELETE', url: `/api/v4/personal_access_tokens/${id}`, token: s.rootToken })).status).toBe(204);
    expect((await read(token)).status).toBe(401);
  });

  it('a token expired or narrowed by SQL stops working at once', async () => {
    const token = await s.api.createToken(dev.id, ['api']);
    expect(await readCached(token)).toBe(200);
    await sql(`UPDATE tokens SET scopes = ARRAY['read_user'] WHERE id = (SELECT max(id) FROM tokens WHERE user_id = $1)`, [dev.id]);
    expect((await read(token)).status).toBe(403);
    await sql(`UPDATE tokens SET expires_at = now() - interval '1 day' WHERE id = (SELECT max(id) FROM tokens WHERE user_id = $1)`, [
      dev.id,
    ]);
    expect((await read(token)).status).toBe(401);
  });

  it('a blocked user is refused at once', async () => {
    const user = await s.api.createUser(`blocked${project.id}`);
    await s.api.addMember({ project: project.id }, user.id, 30);
    expect(await readCached(user.token)).toBe(200);
    await sql(`UPDATE users SET state = 'blocked' WHERE id = $1`, [user.id]);
    expect((await read(user.token)).status).toBe(401);
  });

  it('a removed member loses the project at once, and a member added gains it', async () => {
    const user = await s.api.createUser(`member${project.id}`);
    expect(await readCached(user.token)).toBe(404);
    await s.api.addMember({ project: project.id }, user.id, 10);
    expect(await readCached(user.token)).toBe(200);
    await sql(`DELETE FROM members WHERE user_id = $1`, [user.id]);
    expect((await read(user.token)).status).toBe(404);
  });

  it('a membership with an end date ends with its date, however recently it was read', async () => {
    const user = await s.api.createUser(`dated${project.id}`);
    await s.api.addMember({ project: project.id }, user.id, 30);
    await sql(`UPDATE members SET expires_at = current_date WHERE user_id = $1`, [user.id]);
    expect(await readCached(user.token)).toBe(200);
    // The date passes without any write: only a read of the row can tell.
    await s.app.get(DataSource).transaction(async (m) => {
      await m.query(`ALTER TABLE members DISABLE TRIGGER members_access_changed`);
      await m.query(`UPDATE members SET expires_at = current_date - 1 WHERE user_id = $1`, [user.id]);
      await m.query(`ALTER TABLE members ENABLE TRIGGER members_access_changed`);
    });
    expect((await read(user.token)).status).toBe(404);
  });

  it('a project made public is readable anonymously at once, and private again is not', async () => {
    expect(await readCached()).toBe(401);
    await s.api.root('PUT', `/api/v4/projects/${project.id}`, { visibility: 'public' });
    expect(await readCached()).toBe(200);
    await sql(`UPDATE projects SET visibility = 'private' WHERE id = $1`, [project.id]);
    expect((await read()).status).toBe(401);
  });

  it('a project renamed by SQL answers at its new path only', async () => {
    const byPath = (path: string) => s.api.inject({ url: `/api/v4/projects/${encodeURIComponent(path)}/packages`, token: dev.token });
    const old = (await sql('SELECT full_path FROM projects WHERE id = $1', [project.id]))[0].full_path as string;
    expect((await byPath(old)).status).toBe(200);
    await sql(`UPDATE projects SET path = path || '-moved', full_path = full_path || '-moved' WHERE id = $1`, [project.id]);
    expect((await byPath(old)).status).toBe(404);
    expect((await byPath(`${old}-moved`)).status).toBe(200);
  });

  it('moves the epoch on changes of access, not on a token being used', async () => {
    const token = await s.api.createToken(dev.id, ['api']);
    expect(await moves(() => sql(`UPDATE tokens SET last_used_at = now() - interval '1 hour' WHERE user_id = $1`, [dev.id]))).toBe(false);
    // Its use refreshes last_used_at (an hour old now).
    expect(await moves(() => read(token))).toBe(false);
    expect(await moves(() => sql(`UPDATE tokens SET name = 'renamed' WHERE user_id = $1`, [dev.id]))).toBe(true);
    expect(await moves(() => sql(`UPDATE members SET access_level = 40 WHERE user_id = $1`, [dev.id]))).toBe(true);
    expect(await moves(() => s.api.createGroup(`g${project.id}`))).toBe(true);
  });
});
