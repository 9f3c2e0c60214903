import { startTestServer, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';
import { type Exchange, loadTranscript, type Mark, Replay } from './conan.replay';
import { blobFiles, conanPackages } from './conan.support';

// Package protection rules as the Conan client meets them. The conan client cannot be
// installed here (README), so its recorded conan 1.65 session is replayed request by request
// (conan.replay.ts): `conan upload` of a protected recipe by a Developer is refused at its
// first file with the 403 whose body conan prints (`Package protected.`) and stores nothing;
// a Maintainer's upload goes through, as does the Developer's upload of another recipe; a
// delete rule refuses `conan remove` of the recipe.

const TRANSCRIPT = loadTranscript('v1-no-revisions.jsonl');
const LOGIN = 'conan user demo -r ref -p';
const UPLOAD = 'conan upload hello/0.1@demo/stable -r ref --all -c';
const REMOVE = 'conan remove hello/0.1@demo/stable -r ref -f (recipe)';

/** The requests of one recorded command (from its mark to the next). */
function step(label: string): Exchange[] {
  const start = TRANSCRIPT.findIndex((e) => e.type === 'mark' && e.label === label);
  const exchanges: Exchange[] = [];
  for (const e of TRANSCRIPT.slice(start + 1) as (Exchange | Mark)[]) {
    if (e.type === 'mark') break;
    exchanges.push(e);
  }
  if (start < 0 || !exchanges.length) throw new Error(`no step "${label}"`);
  return exchanges;
}

describe('conan (recorded client) against protected packages', () => {
  let s: TestServer;
  let projectId: number;
  const users: Record<'developer' | 'maintainer', TestUser> = {} as never;

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode: 'postgres', listen: true });
    projectId = (await s.api.createProject('cpp')).id;
    for (const [role, level] of [
      ['developer', 30],
      ['maintainer', 40],
    ] as const) {
      users[role] = await s.api.createUser(role);
      await s.api.addMember({ project: projectId }, users[role].id, level);
    }
    await s.api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, {
      package_name_pattern: 'hel*',
      package_type: 'conan',
      minimum_access_level_for_push: 'maintainer',
      minimum_access_level_for_delete: 'owner',
    });
  });
  afterAll(() => s?.close());

  /** A logged-in client of `as`; with `recipe`, the recording's `hello` is that name instead. */
  async function client(as: keyof typeof users, recipe = 'hello'): Promise<Replay> {
    const rename = (t: string) => t.replace(/\bhello([/@])/g, `${recipe}$1`);
    const replay = new Replay({
      server: s.url,
      base: `/api/v4/projects/${projectId}/packages/conan`,
      username: users[as].username,
      password: users[as].token,
      rewritePath: rename,
      rewriteText: rename,
    });
    await replay.run(step(`${LOGIN} <PASSWORD>`));
    expect(replay.problems).toEqual([]);
    return replay;
  }

  /** `conan upload` as the client runs it: it stops at the first refused request. */
  async function upload(replay: Replay): Promise<{ status: number; body: string } | null> {
    for (const ex of step(UPLOAD)) {
      const res = await replay.exchange(ex);
      if (res.status >= 400 && ex.status < 400) return { status: res.status, body: res.body.toString() };
    }
    return null;
  }

  it('a Developer’s conan upload of a protected recipe is refused with 403 Package protected. and stores nothing', async () => {
    const blobs = await blobFiles(s);
    const refused = await upload(await client('developer'));
    expect(refused).toEqual({ status: 403, body: JSON.stringify({ message: '403 Forbidden - Package protected.' }) });
    expect(await conanPackages(s, projectId)).toEqual([]);
    expect(await blobFiles(s)).toEqual(blobs);
  });

  it('the Developer uploads a recipe no rule matches; a Maintainer uploads the protected one', async () => {
    const other = await client('developer', 'world');
    expect(await upload(other)).toBeNull();
    expect(other.problems).toEqual([]);
    const maintained = await client('maintainer');
    expect(await upload(maintained)).toBeNull();
    expect(maintained.problems).toEqual([]);
    expect((await conanPackages(s, projectId)).map((p) => `${p.name} ${p.version}`).sort()).toEqual([
      'hello 0.1@demo/stable',
      'world 0.1@demo/stable',
    ]);
  });

  it('a delete rule refuses the Maintainer’s conan remove of the recipe; an unprotected one is removed', async () => {
    const [ping, check, remove] = step(REMOVE);
    const maintainer = await client('maintainer');
    await maintainer.exchange(ping);
    await maintainer.exchange(check);
    const refused = await maintainer.exchange(remove);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body.toString())).toEqual({ message: '403 Forbidden - Package is deletion protected.' });

    const other = await client('maintainer', 'world');
    expect((await other.exchange(remove)).status).toBe(200);
    expect((await conanPackages(s, projectId)).map((p) => p.name)).toEqual(['hello']);
  });
});
