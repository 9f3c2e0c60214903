import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { http, multipart, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { genericFormat } from '../src';
import { blobFiles, genericPath, listFiles, listPackages, md5, projectState, sha1, sha256, tempFiles } from './generic.support';

const run = promisify(execFile);

/**
 * The body gitbeaker's `PackageRegistry.publish(projectId, name, version, filename, content,
 * options)` sends: its RequestHelper.put with `isForm` builds the form with
 * appendFormFromObject({ file: [content, filename], ...options }) (the file part first, then
 * each option, e.g. `status`, as a text field) and PUTs it with the global fetch.
 */
function gitbeakerPublish(url: string, token: string, filename: string, content: Blob, options: Record<string, string> = {}) {
  const form = new FormData();
  const fields: Record<string, string | [Blob, string]> = { file: [content, filename], ...options };
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) form.append(k, v[0], v[1]);
    else form.append(k, v);
  }
  return fetch(url, { method: 'PUT', body: form, headers: { 'private-token': token } });
}

// A generic upload sent as multipart/form-data (gitbeaker, older semantic-release/gitlab):
// the file is the form's one file part, never the whole envelope.
describe.each(testModes())('generic uploads sent as a form (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let project: TestProject;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true });
    project = await s.api.createProject('form-proj');
    dev = await s.api.createUser('form-dev');
    await s.api.addMember({ project: project.id }, dev.id, 30);
  });
  afterAll(() => s?.close());

  const download = async (rest: string) => {
    const res = await http(s.url, { path: genericPath(project.id, rest), token: dev.token });
    expect(res.status).toBe(200);
    return res.body;
  };

  it("stores the file part of gitbeaker's form, with its own digests", async () => {
    const content = randomBytes(300_000);
    const res = await gitbeakerPublish(
      `${s.url}${genericPath(project.id, 'gb/1.0.0/tool.tar.gz')}`,
      dev.token,
      'tool.tar.gz',
      new Blob([content]),
    );
    expect([res.status, await res.json()]).toEqual([201, { message: '201 Created' }]);
    expect(sha256(await download('gb/1.0.0/tool.tar.gz'))).toBe(sha256(content));
    const [pkg] = (await listPackages(s, project.id)).filter((p) => p.name === 'gb');
    const [file] = await listFiles(s, project.id, pkg.id);
    expect(file).toMatchObject({
      file_name: 'tool.tar.gz',
      size: content.length,
      file_sha256: sha256(content),
      file_md5: md5(content),
      file_sha1: sha1(content),
    });
  });

  it("takes gitbeaker's options (sent as form fields): status and select", async () => {
    const content = Buffer.from('hidden release notes\n');
    const res = await gitbeakerPublish(
      `${s.url}${genericPath(project.id, 'gb-hidden/2.0.0/notes.txt')}`,
      dev.token,
      'notes.txt',
      new Blob([content]),
      {
        status: 'hidden',
        select: 'package_file',
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ file_name: 'notes.txt', size: content.length, file_sha256: sha256(content) });
    expect((await listPackages(s, project.id, 'hidden')).map((p) => p.name)).toContain('gb-hidden');
    expect(await download('gb-hidden/2.0.0/notes.txt')).toEqual(content);
  });

  it('refuses an invalid status field before anything is kept', async () => {
    const before = await blobFiles(s);
    const res = await gitbeakerPublish(`${s.url}${genericPath(project.id, 'gb-bad/1.0.0/x.bin')}`, dev.token, 'x.bin', new Blob(['x']), {
      status: 'public',
    });
    expect([res.status, await res.json()]).toEqual([400, { error: 'status does not have a valid value' }]);
    expect(await blobFiles(s)).toEqual(before);
  });

  it('stores the file part of a form curl sends (-F file=@…)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'generic-form-'));
    try {
      const content = randomBytes(100_000);
      await writeFile(join(dir, 'asset.bin'), content);
      const { stdout } = await run('curl', [
        '-sS',
        '-X',
        'PUT',
        '-H',
        `PRIVATE-TOKEN: ${dev.token}`,
        '-F',
        `file=@${join(dir, 'asset.bin')}`,
        `${s.url}${genericPath(project.id, 'curl-form/1.0.0/asset.bin')}`,
      ]);
      expect(JSON.parse(stdout)).toEqual({ message: '201 Created' });
      expect(sha256(await download('curl-form/1.0.0/asset.bin'))).toBe(sha256(content));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps a raw body that only looks like a form as it is', async () => {
    const { body } = multipart([{ name: 'file', value: 'inner', fileName: 'inner.txt' }]);
    const res = await http(s.url, {
      method: 'PUT',
      path: genericPath(project.id, 'raw-form/1.0.0/body.txt'),
      token: dev.token,
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(201);
    expect(await download('raw-form/1.0.0/body.txt')).toEqual(body);
  });

  describe('any other form → 400 that says to send the file as the body, nothing stored', () => {
    async function refused(body: Buffer, contentType: string): Promise<{ status: number; message: string }> {
      const [before, blobs] = await Promise.all([projectState(s, project.id), blobFiles(s)]);
      const res = await http(s.url, {
        method: 'PUT',
        path: genericPath(project.id, 'refused/1.0.0/file.bin'),
        token: dev.token,
        body,
        headers: { 'content-type': contentType },
      });
      const after = await projectState(s, project.id);
      expect(after.packages.map((p) => p.id)).toEqual(before.packages.map((p) => p.id));
      expect(after.files.map((f) => f.id)).toEqual(before.files.map((f) => f.id));
      expect(await blobFiles(s)).toEqual(blobs);
      expect(await tempFiles(s)).toEqual([]);
      return { status: res.status, message: res.json().message };
    }

    it('a form without a file part', async () => {
      const form = multipart([{ name: 'status', value: 'default' }]);
      expect(await refused(form.body, form.contentType)).toEqual({
        status: 400,
        message:
          '400 Bad request - a multipart/form-data upload must hold exactly one file part, this one has none; send the file itself as the request body (curl --upload-file FILE)',
      });
    });

    it('a form with two file parts (the first one already stored is dropped)', async () => {
      const form = multipart([
        { name: 'file', value: randomBytes(50_000), fileName: 'a.bin' },
        { name: 'other', value: randomBytes(10), fileName: 'b.bin' },
      ]);
      expect(await refused(form.body, form.contentType)).toEqual({
        status: 400,
        message:
          '400 Bad request - a multipart/form-data upload must hold exactly one file part, this one has more; send the file itself as the request body (curl --upload-file FILE)',
      });
    });

    it('a form cut short', async () => {
      const form = multipart([{ name: 'file', value: randomBytes(5000), fileName: 'a.bin' }]);
      const res = await refused(form.body.subarray(0, 3000), form.contentType);
      expect(res.status).toBe(400);
      expect(res.message).toMatch(
        /^400 Bad request - malformed multipart\/form-data body: unexpected end of multipart body; or send the file itself/,
      );
    });

    it('a form with an empty file', async () => {
      const form = multipart([{ name: 'file', value: '', fileName: 'a.bin' }]);
      const [before, blobs] = await Promise.all([projectState(s, project.id), blobFiles(s)]);
      const res = await http(s.url, {
        method: 'PUT',
        path: genericPath(project.id, 'refused/1.0.0/file.bin'),
        token: dev.token,
        body: form.body,
        headers: { 'content-type': form.contentType },
      });
      expect([res.status, res.json()]).toEqual([400, { error: 'file is missing' }]);
      expect((await projectState(s, project.id)).files.length).toBe(before.files.length);
      expect(await blobFiles(s)).toEqual(blobs);
    });
  });
});
