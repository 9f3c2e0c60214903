// Real upstreams for the remote-registry tests (python3 -m http.server over a tree the test
// writes, behind testkit's fault proxy) and the server state a user would check afterwards.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type FaultProxy, startFaultProxy, startStaticHttp, type StaticHttp, storedBlobKeys, type TestServer } from '@stowage/testkit';
import { DataSource } from 'typeorm';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A tree of fixture packages on disk: `<name>/index.json` and the files it lists. */
export class UpstreamTree {
  constructor(readonly dir: string) {}

  static async create(): Promise<UpstreamTree> {
    return new UpstreamTree(await mkdtemp(join(tmpdir(), 'stowage-upstream-')));
  }

  /**
   * Writes the files of `name` and its index listing them with their sha256; `declare`
   * overrides what the index says of a file (another digest, a link elsewhere).
   */
  async publish(
    name: string,
    files: Record<string, Buffer>,
    declare: Record<string, { sha256?: string; url?: string }> = {},
  ): Promise<void> {
    await mkdir(join(this.dir, name), { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(this.dir, name, file), bytes);
    const index = {
      files: Object.entries(files).map(([file, bytes]) => ({ name: file, sha256: sha256(bytes), ...declare[file] })),
    };
    await this.writeIndex(name, JSON.stringify(index));
  }

  async writeIndex(name: string, body: string): Promise<void> {
    await mkdir(join(this.dir, name), { recursive: true });
    await writeFile(join(this.dir, name, 'index.json'), body);
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/** A real upstream: python3 -m http.server over a tree, behind a fault proxy that counts requests. */
export interface TestUpstream {
  tree: UpstreamTree;
  http: StaticHttp;
  proxy: FaultProxy;
  /** Requests the upstream answered for this path (exact, without query). */
  count(path: string): number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<TestUpstream> {
  const tree = await UpstreamTree.create();
  const http = await startStaticHttp(tree.dir);
  const proxy = await startFaultProxy(http.url);
  return {
    tree,
    http,
    proxy,
    count: (path) => proxy.count(path),
    close: async () => {
      await proxy.close();
      await http.stop();
      await tree.remove();
    },
  };
}

/**
 * python3's http.server with a strong ETag (from the file's size and mtime, as nginx makes it)
 * that answers If-None-Match with 304 and ignores If-Modified-Since: plain http.server sends no
 * ETag, and this proves that revalidation sends If-None-Match.
 */
export async function startEtagHttp(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const script = `
import http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def etag(self):
        p = self.translate_path(self.path)
        if not os.path.isfile(p): return None
        st = os.stat(p)
        return '"%x-%x"' % (int(st.st_mtime_ns), st.st_size)
    def send_head(self):
        tag = self.etag()
        if tag and self.headers.get('If-None-Match') == tag:
            self.send_response(304); self.send_header('ETag', tag); self.end_headers(); return None
        if 'If-Modified-Since' in self.headers: del self.headers['If-Modified-Since']
        self._tag = tag
        return super().send_head()
    def end_headers(self):
        tag = getattr(self, '_tag', None)
        if tag: self.send_header('ETag', tag)
        super().end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), lambda *a, **k: H(*a, directory=sys.argv[1], **k))
print(s.server_address[1], flush=True)
s.serve_forever()
`;
  const child = spawn('/usr/bin/python3', ['-c', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`python3 exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface RemoteFileRow {
  id: number;
  package_name: string;
  file_name: string;
  url: string;
  file_sha256: string;
  size: number;
}

/** What the server keeps: cached-file rows, blob rows, stored keys, metadata documents. */
export async function remoteState(s: TestServer) {
  const ds = s.app.get(DataSource);
  const files: RemoteFileRow[] = (
    await ds.query('SELECT id, package_name, file_name, url, file_sha256, size FROM remote_files ORDER BY id')
  ).map((r: RemoteFileRow) => ({ ...r, id: Number(r.id), size: Number(r.size) }));
  const blobs: { sha256: string; orphaned: boolean }[] = await ds.query(
    'SELECT sha256, orphaned_at IS NOT NULL AS orphaned FROM blobs ORDER BY sha256',
  );
  const documents: { url: string; revision: number; status: number }[] = await ds.query(
    'SELECT url, revision, status FROM remote_documents ORDER BY id',
  );
  return { files, blobs, documents, keys: await storedBlobKeys(s) };
}

export interface StreamedDownload {
  /** Resolves with the status once the headers arrived. */
  headers: Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>;
  /** Body bytes received so far. */
  received(): number;
  /** Settles when the response ended (complete) or was cut (complete: false). */
  done: Promise<{ status: number; body: Buffer; complete: boolean }>;
  /** Closes the connection now, as a client giving up. */
  abort(): void;
}

/** A GET over a connection of its own whose progress the test can watch while it runs. */
export function streamedGet(url: string, token?: string): StreamedDownload {
  const chunks: Buffer[] = [];
  let size = 0;
  let abort = () => {};
  let onHeaders!: (h: { status: number; headers: Record<string, string | string[] | undefined> }) => void;
  const headers = new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((r) => (onHeaders = r));
  const done = new Promise<{ status: number; body: Buffer; complete: boolean }>((resolve, reject) => {
    const req = httpGet(url, { agent: false, headers: token ? { 'private-token': token } : {} }, (res) => {
      onHeaders({ status: res.statusCode!, headers: res.headers });
      let settled = false;
      const finish = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish(res.complete));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete && res.readableEnded));
    });
    abort = () => req.destroy();
    req.on('error', reject);
  });
  return { headers, received: () => size, done, abort };
}

export interface Redirector {
  url: string;
  /** Requests it received, with their headers. */
  requests: { path: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

/**
 * A host that answers every GET with a 302 to `to(path)`, as a mirror or CDN front does
 * (python3's http.server only redirects a directory to itself with a slash).
 */
export async function startRedirector(to: (path: string, self: string) => string): Promise<Redirector> {
  const requests: Redirector['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '/', headers: req.headers });
    res.writeHead(302, { location: to(req.url ?? '/', url), 'content-length': 0 });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
