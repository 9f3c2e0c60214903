import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { TokensService } from '../src/auth/tokens.service';

// A token derived from another (what a Conan login hands its client) is only as good as the
// token it came from: revoking or expiring the parent ends it, whatever its own expiry says.

describe.each(testModes())('derived tokens (%s)', (mode) => {
  let s: TestServer;
  let alice: TestUser;
  let tokens: TokensService;

  const whoAmI = async (bearer: string) =>
    (await s.api.inject({ url: '/api/v4/user', headers: { authorization: `Bearer ${bearer}` } })).status;

  async function derive(parentSecret: string): Promise<string> {
    const parent = (await tokens.findBySecret(parentSecret))!;
    const { secret } = await tokens.create({
      kind: parent.kind,
      name: 'derived',
      scopes: parent.scopes,
      userId: parent.user_id,
      parentId: parent.id,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return secret;
  }

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    alice = await s.api.createUser('alice');
    tokens = s.app.get(TokensService);
  });
  afterAll(() => s?.close());

  it('works while its parent is live, and stops when the parent is revoked', async () => {
    const parentSecret = await s.api.createToken(alice.id, ['api']);
    const child = await derive(parentSecret);
    expect(await whoAmI(child)).toBe(200);
    const parent = (await tokens.findBySecret(parentSecret))!;
    await tokens.revoke(parent);
    expect(await whoAmI(parentSecret)).toBe(401);
    expect(await whoAmI(child)).toBe(401);
  });

  it('stops when the parent expires, even if its own expiry is later', async () => {
    const parentSecret = await s.api.createToken(alice.id, ['api']);
    const child = await derive(parentSecret);
    const parent = (await tokens.findBySecret(parentSecret))!;
    await s.app.get(TokensService)['ds'].query("UPDATE tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [parent.id]);
    expect(await whoAmI(child)).toBe(401);
  });

  it('expired derived tokens of a parent are removed when it derives a new one', async () => {
    const parentSecret = await s.api.createToken(alice.id, ['api']);
    const parent = (await tokens.findBySecret(parentSecret))!;
    const old = await tokens.create({
      kind: 'personal',
      name: 'old',
      scopes: ['api'],
      userId: alice.id,
      parentId: parent.id,
      expiresAt: new Date(Date.now() - 1000),
    });
    await derive(parentSecret);
    expect(await tokens.findById(old.token.id)).toBeNull();
  });
});
