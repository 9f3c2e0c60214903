import {
  buildTar,
  startTestServer,
  storedBlobKeys,
  type TarInput,
  testModes,
  type TestProject,
  type TestServer,
  zeroTarGz,
} from '@stowage/testkit';

import { conanFormat } from '../src';
import { send } from './conan.replay';
import { conanPackages } from './conan.support';

const RREV = 'a'.repeat(32);
const PREV = 'b'.repeat(32);
const PKGID = 'cb054d0b3e1ca595dc66bc2339d40f1f8f04ab31';
const UNPACKED = 4 * 1024 * 1024;

// The .tgz files conan clients unpack: each is read through as it is uploaded, and refused
// (400 naming the entry, nothing stored) when an entry could land outside the package folder.
describe.each(testModes())('conan archives (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;
  let files: { sources: string; export: string; package: string };

  const put = (path: string, body: Buffer) => send(s.url, 'PUT', path, { 'private-token': s.rootToken }, body);
  const refused = async (path: string, body: Buffer, message: string) => {
    const blobsBefore = await storedBlobKeys(s);
    const res = await put(path, body);
    expect([res.status, JSON.parse(res.body.toString())]).toEqual([400, { message: `400 Bad request - ${message}` }]);
    expect(await conanPackages(s, project.id)).toEqual([]);
    expect(await storedBlobKeys(s)).toEqual(blobsBefore);
  };

  beforeAll(async () => {
    s = await startTestServer({
      formats: [conanFormat],
      mode,
      listen: true,
      config: { formats: { conan: { max_unpacked_size: UNPACKED } } },
    });
    project = await s.api.createProject('conan-archives');
    const v2 = `/api/v4/projects/${project.id}/packages/conan/v2/conans/zlib/1.3/_/_/revisions/${RREV}`;
    files = {
      sources: `${v2}/files/conan_sources.tgz`,
      export: `/api/v4/projects/${project.id}/packages/conan/v1/files/zlib/1.3/_/_/0/export/conan_export.tgz`,
      package: `${v2}/packages/${PKGID}/revisions/${PREV}/files/conan_package.tgz`,
    };
  });
  afterAll(() => s?.close());

  const lib: TarInput[] = [
    { name: 'include/zlib.h', data: '/* zlib */' },
    { name: 'lib/libz.so.1.3', data: 'ELF' },
  ];

  it.each<[string, TarInput, string]>([
    [
      'a ".." path',
      { name: 'lib/../../../.bashrc', data: 'x' },
      'the archive entry "lib/../../../.bashrc" points outside the package directory (a ".." segment)',
    ],
    [
      'an absolute path',
      { name: '/etc/cron.d/x', data: 'x' },
      'the archive entry "/etc/cron.d/x" points outside the package directory (an absolute path)',
    ],
    ['a drive path', { name: 'C:/x', data: 'x' }, 'the archive entry "C:/x" points outside the package directory (a drive path)'],
    ['a backslash path', { name: 'lib\\..\\..\\x', data: 'x' }, 'the archive entry "lib\\\\..\\\\..\\\\x" has a backslash in its name'],
    [
      'a symlink pointing out',
      { name: 'lib/libz.so', type: '2', link: '../../../etc/passwd' },
      'the symbolic link "lib/libz.so" points outside the package directory (to "../../../etc/passwd")',
    ],
    [
      'an absolute symlink',
      { name: 'lib/libz.so', type: '2', link: '/usr/lib/libz.so' },
      'the symbolic link "lib/libz.so" points outside the package directory (to "/usr/lib/libz.so")',
    ],
    [
      'a hard link pointing out',
      { name: 'lib/libz.a', type: '1', link: '../etc/shadow' },
      'the hard link "lib/libz.a" to "../etc/shadow": its target points outside the package directory (a ".." segment)',
    ],
    ['a FIFO', { name: 'lib/fifo', type: '6' }, 'the archive entry "lib/fifo" is a device, FIFO or other special file'],
    ['a file held twice', { name: 'include/zlib.h', data: 'other' }, 'the archive holds "include/zlib.h" more than once'],
  ])('refuses a conan_package.tgz with %s, naming the entry, and stores nothing', async (_, entry, problem) => {
    await refused(files.package, buildTar([...lib, entry]), `Invalid conan_package.tgz: ${problem}`);
  });

  it('refuses an entry written through a symlink, in conan_sources.tgz and conan_export.tgz alike', async () => {
    const through = buildTar([
      { name: 'src', type: '2', link: '.' },
      { name: 'src/x.c', data: 'x' },
    ]);
    await refused(files.sources, through, 'Invalid conan_sources.tgz: the archive entry "src/x.c" lies under the symbolic link "src"');
    const escape = buildTar([
      { name: 'a/up', type: '2', link: '..' },
      { name: 'a/out', type: '2', link: 'up/../x' },
    ]);
    await refused(files.export, escape, 'Invalid conan_export.tgz: the symbolic link "a/out" points through the symbolic link "a/up"');
  });

  it('refuses a file that is no gzipped tar, and one that expands beyond max_unpacked_size', async () => {
    await refused(files.package, Buffer.from('PK\u0003\u0004 not a tgz'), 'Invalid conan_package.tgz: not a gzipped tar archive');
    await refused(files.package, zeroTarGz('lib/zeros.a', 64), `Invalid conan_package.tgz: the archive expands beyond ${UNPACKED} bytes`);
  });

  it('stores a package of a shared library, its symlinks inside the package kept', async () => {
    const tgz = buildTar([
      { name: 'lib/', type: '5' },
      ...lib,
      { name: 'lib/libz.so.1', type: '2', link: 'libz.so.1.3' },
      { name: 'lib/libz.so', type: '2', link: 'libz.so.1' },
      { name: 'bin/z', type: '2', link: '../lib/libz.so' },
    ]);
    expect((await put(files.package, tgz)).status).toBe(200);
    const got = await send(s.url, 'GET', files.package, { 'private-token': s.rootToken }, Buffer.alloc(0));
    // With object storage (STOWAGE_TEST_OBJECT_STORE) the download redirects to the bucket.
    const bytes = got.status === 302 ? Buffer.from(await (await fetch(String(got.headers.location))).arrayBuffer()) : got.body;
    expect([200, 302]).toContain(got.status);
    expect(bytes.equals(tgz)).toBe(true);
  });
});
