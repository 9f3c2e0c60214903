import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

import { FileStorage } from '@stowage/core';
import { composerFormat } from '@stowage/format-composer';
import { conanFormat } from '@stowage/format-conan';
import { genericFormat } from '@stowage/format-generic';
import { goFormat } from '@stowage/format-go';
import { mavenFormat } from '@stowage/format-maven';
import { npmFormat } from '@stowage/format-npm';
import { nugetFormat } from '@stowage/format-nuget';
import { pypiFormat } from '@stowage/format-pypi';
import {
  buildTar,
  openDescriptors,
  rawConnection,
  requestHead,
  serverSockets,
  startTestObjectStore,
  startTestServer,
  storedBlobKeys,
  type TestObjectStore,
  type TestServer,
  waitFor,
} from '@stowage/testkit';

const FORMATS = [genericFormat, npmFormat, pypiFormat, mavenFormat, nugetFormat, conanFormat, composerFormat, goFormat];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BOUNDARY = '----stowage-aborted-upload';

/** A multipart body up to and into its file part: the fields, then the file part's header. */
function formHead(fields: Record<string, string>, file: { name: string; fileName: string }): Buffer {
  let text = '';
  for (const [name, value] of Object.entries(fields))
    text += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  text += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.fileName}"\r\n`;
  return Buffer.from(`${text}Content-Type: application/octet-stream\r\n\r\n`);
}

interface Attempt {
  format: string;
  method: 'PUT' | 'POST';
  path: (project: number) => string;
  contentType: string;
  /** Body bytes before the file's own bytes (a form's fields and part header, npm's JSON start). */
  prefix: Buffer;
  /** The format streams the file into storage (a temp file appears while it arrives). */
  streamsToStorage: boolean;
  /** The start of a file of the kind the route takes, where the format reads it as it arrives. */
  file?: () => Buffer;
}

const PARTIAL = 256 << 10;
/** The first bytes of a gzipped tar: formats that read a .tgz while it arrives see a valid start. */
const tarGzStart = () => buildTar({ 'src/data.bin': randomBytes(4 * PARTIAL) }).subarray(0, PARTIAL);

const ATTEMPTS: Attempt[] = [
  {
    format: 'generic',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/generic/aborted/1.0.0/file.bin`,
    contentType: 'application/octet-stream',
    prefix: Buffer.alloc(0),
    streamsToStorage: true,
  },
  {
    format: 'maven',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/maven/com/example/aborted/1.0/aborted-1.0.jar`,
    contentType: 'application/java-archive',
    prefix: Buffer.alloc(0),
    streamsToStorage: true,
  },
  {
    format: 'conan',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/conan/v2/conans/aborted/1.0/_/_/revisions/${'a'.repeat(32)}/files/conan_sources.tgz`,
    contentType: 'application/octet-stream',
    prefix: Buffer.alloc(0),
    streamsToStorage: true,
    file: tarGzStart,
  },
  {
    format: 'go',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/go/example.com/aborted/@v/v1.0.0.zip`,
    contentType: 'application/zip',
    prefix: Buffer.alloc(0),
    streamsToStorage: true,
  },
  {
    format: 'npm',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/npm/@aborted%2fpkg`,
    contentType: 'application/json',
    prefix: Buffer.from(
      '{"_id":"@aborted/pkg","name":"@aborted/pkg","versions":{"1.0.0":{"name":"@aborted/pkg","version":"1.0.0",' +
        '"dist":{"tarball":"x"}}},"_attachments":{"@aborted/pkg-1.0.0.tgz":{"content_type":"application/octet-stream","data":"',
    ),
    streamsToStorage: false,
  },
  {
    format: 'pypi',
    method: 'POST',
    path: (p) => `/api/v4/projects/${p}/packages/pypi`,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    prefix: formHead(
      { ':action': 'file_upload', protocol_version: '1', name: 'aborted', version: '1.0' },
      { name: 'content', fileName: 'aborted-1.0.tar.gz' },
    ),
    streamsToStorage: true,
    file: tarGzStart,
  },
  {
    format: 'nuget',
    method: 'PUT',
    path: (p) => `/api/v4/projects/${p}/packages/nuget/`,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    prefix: formHead({}, { name: 'package', fileName: 'package.nupkg' }),
    streamsToStorage: true,
  },
  {
    format: 'composer',
    method: 'POST',
    path: (p) => `/api/v4/projects/${p}/packages/composer`,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    prefix: formHead({ version: '1.0.0' }, { name: 'file', fileName: 'package.zip' }),
    streamsToStorage: true,
  },
];

// A client that goes away in the middle of a body (closed laptop, killed CI job, a proxy
// timing out): every format's upload must end, close what it opened and leave nothing behind.
describe.each(['local', 'object'] as const)('uploads abandoned mid-body (%s storage)', (storage) => {
  let s: TestServer;
  let objectStore: TestObjectStore | undefined;
  let project: number;
  let token: string;

  const tempFiles = async () => (await readdir(join(s.storagePath, 'tmp')).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));
  const newTempFiles = async (before: string[]) => (await tempFiles()).filter((f) => !before.includes(f));
  const packagesOf = async () => {
    const found: unknown[] = [];
    for (const status of ['default', 'hidden', 'processing', 'error']) {
      const res = await s.api.inject({ url: `/api/v4/projects/${project}/packages?status=${status}`, token: s.rootToken });
      expect(res.status).toBe(200);
      found.push(...res.json<unknown[]>());
    }
    return found;
  };

  beforeAll(async () => {
    if (storage === 'object') objectStore = await startTestObjectStore();
    s = await startTestServer({
      formats: FORMATS,
      mode: 'postgres',
      storages: objectStore ? [objectStore.plugin] : [],
      config: objectStore
        ? {
            packages: {
              object_store: {
                enabled: true,
                direct_upload: true,
                remote_directory: objectStore.bucket,
                connection: objectStore.connection,
              },
            },
          }
        : { packages: { object_store: { enabled: false } } },
    });
    const user = await s.api.createUser('uploader');
    const group = await s.api.createGroup('aborted');
    project = (await s.api.createProject('uploads', { namespaceId: group.id })).id;
    await s.api.addMember({ project }, user.id, 40);
    token = user.token;
  });
  afterAll(async () => {
    await s?.close();
    await objectStore?.close();
  });

  it.each(ATTEMPTS.map((a) => [a.format, a] as const))(
    '%s: the request ends, its descriptor and temp file go, nothing is stored',
    async (_f, attempt) => {
      const file = attempt.file?.() ?? randomBytes(PARTIAL);
      const sentBody = Buffer.concat([attempt.prefix, attempt.format === 'npm' ? Buffer.from(file.toString('base64')) : file]);
      const head = requestHead(attempt.method, attempt.path(project), {
        host: new URL(s.url).host,
        'private-token': token,
        'content-type': attempt.contentType,
        'content-length': sentBody.length + (4 << 20),
      });
      // Settle first: every connection the server keeps (database pool, Redis) is open.
      expect((await s.api.inject({ url: `/api/v4/projects/${project}/packages`, token })).status).toBe(200);
      // The server's pooled connections to the object store come and go on their own.
      const except = objectStore
        ? [{ host: new URL(objectStore.endpoint).hostname, port: Number(new URL(objectStore.endpoint).port) }]
        : [];
      const baseline = await openDescriptors({ except });
      const tempBefore = await tempFiles();

      const httpServer = s.app.getHttpServer();
      const server = serverSockets(httpServer);
      const responses: ServerResponse[] = [];
      const onRequest = (_req: unknown, res: ServerResponse) => responses.push(res);
      httpServer.on('request', onRequest);
      const conn = await rawConnection(s.url);
      try {
        await conn.write(Buffer.concat([head, sentBody]));
        const serverSide = await waitFor('the server to accept the connection', () => server.sockets[0]);
        await waitFor('the server to read the whole partial body', () => serverSide.bytesRead >= head.length + sentBody.length);
        if (attempt.streamsToStorage && storage === 'local')
          await waitFor('the upload to reach a temp file', async () => (await newTempFiles(tempBefore)).length > 0);
        expect(conn.received().length).toBe(0);
        conn.socket.destroy();

        // The handler finished (it answered, to nobody), and let go of everything it held.
        await waitFor('the server to end the request', () => responses[0]?.writableEnded);
        // A client that went away is no server error: nothing is logged as a 500.
        expect(responses[0].statusCode).toBeLessThan(500);
        await waitFor('the temp file and every descriptor of the request to be gone', async () => {
          const now = await openDescriptors({ except });
          return (
            (await newTempFiles(tempBefore)).length === 0 && now.length <= baseline.length && !now.some((d) => d.startsWith(s.dataDir))
          );
        });
      } finally {
        httpServer.off('request', onRequest);
        server.stop();
        conn.socket.destroy();
      }
      expect(await packagesOf()).toEqual([]);
      expect(await storedBlobKeys(s)).toEqual([]);
      expect(await s.app.get(FileStorage).blob(sha256(file))).toBeNull();
    },
  );
});
