import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { RootBootstrap } from '../src/admin/root-bootstrap';
import { TokensService } from '../src/auth/tokens.service';
import { UsersService } from '../src/auth/users.service';

// Issue 14, item 7: STOWAGE_ROOT_TOKEN is root's token from each start on. Changing it and
// restarting retires the token the old value made; root's other tokens are left alone.

describe.each(testModes())('STOWAGE_ROOT_TOKEN rotation (%s)', (mode) => {
  let s: TestServer;
  const first = 'operator-chosen-root-secret-one-0123456789';
  const second = 'operator-chosen-root-secret-two-0123456789';
  let apiMade: string; // a token root made for itself through the API
  let rootId: number;
  let alice: TestUser;

  const whoAmI = async (token: string) => {
    const res = await s.api.inject({ url: '/api/v4/user', token });
    return res.status === 200 ? res.json().username : res.status;
  };
  const envTokens = async () =>
    (await s.app
      .get(DataSource)
      .query('SELECT name, revoked_at IS NOT NULL AS revoked FROM tokens WHERE from_root_token_env ORDER BY id')) as {
      name: string;
      revoked: boolean;
    }[];

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, rootToken: first });
    rootId = (await s.api.inject({ url: '/api/v4/user', token: first })).json().id;
    const made = await s.api.inject({
      method: 'POST',
      url: `/api/v4/users/${rootId}/personal_access_tokens`,
      token: first,
      payload: { name: 'STOWAGE_ROOT_TOKEN', scopes: ['api'] }, // even named like the bootstrap's
    });
    expect(made.status).toBe(201);
    apiMade = made.json().token;
    alice = await s.api.createUser('alice');
  });
  afterAll(() => s?.close());

  it('a restart with a new value: the old token is 401, the new one is root, root’s API-made token still works', async () => {
    expect(await whoAmI(first)).toBe('root');
    await s.restart({ rootToken: second });
    expect(await whoAmI(first)).toBe(401);
    expect(await whoAmI(second)).toBe('root');
    expect(await whoAmI(apiMade)).toBe('root');
    expect(await envTokens()).toEqual([
      { name: 'STOWAGE_ROOT_TOKEN', revoked: true },
      { name: 'STOWAGE_ROOT_TOKEN', revoked: false },
    ]);
  });

  it('a restart with the same value changes nothing; going back to an earlier value makes it root’s token again', async () => {
    await s.restart({ rootToken: second });
    expect(await whoAmI(second)).toBe('root');
    expect(await envTokens()).toHaveLength(2);
    await s.restart({ rootToken: first });
    expect(await whoAmI(first)).toBe('root');
    expect(await whoAmI(second)).toBe(401);
    expect(await whoAmI(apiMade)).toBe('root');
    expect(await envTokens()).toHaveLength(2);
  });

  it('a restart without the variable leaves the last value valid (root would have no token otherwise)', async () => {
    await s.restart({ rootToken: null });
    expect(await whoAmI(first)).toBe('root');
    expect(await whoAmI(second)).toBe(401);
  });

  it('processes starting at once with a new value agree: one token, the old ones revoked, no error', async () => {
    const third = 'operator-chosen-root-secret-three-0123456789';
    const bootstraps = Array.from(
      { length: 4 },
      () => new RootBootstrap(s.app.get(UsersService), s.app.get(TokensService), { rootToken: third, announce: () => undefined }),
    );
    await Promise.all(bootstraps.map((b) => b.onApplicationBootstrap()));
    expect(await whoAmI(third)).toBe('root');
    expect(await whoAmI(first)).toBe(401);
    expect(await whoAmI(apiMade)).toBe('root');
    const rows = await envTokens();
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => !r.revoked)).toHaveLength(1);
  });

  it('refuses a value that is another user’s token', async () => {
    const tokens = s.app.get(TokensService);
    await expect(tokens.syncRootEnvToken(rootId, alice.token)).rejects.toThrow('STOWAGE_ROOT_TOKEN is already in use by another token');
    expect((await s.api.inject({ url: '/api/v4/user', token: alice.token })).json().username).toBe('alice');
  });
});
