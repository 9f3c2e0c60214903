import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from './wait';

/** docs/configuration.md, which holds the nginx block operators copy for local_download_offload. */
const CONFIGURATION_MD = join(__dirname, '../../../docs/configuration.md');

/**
 * The inside of docs/configuration.md's nginx `server {}` block for local_download_offload
 * (between `<!-- nginx-offload -->` markers), pointed at `upstream` (a Stowage base URL) and
 * `storagePath`, without `listen` and `server_name` (startTestNginx says those): what the
 * tests and the benchmark run is exactly what the documentation tells operators to write.
 */
export async function documentedOffloadServerBlock(upstream: string, storagePath: string): Promise<string> {
  const text = await readFile(CONFIGURATION_MD, 'utf8');
  const m = /<!-- nginx-offload -->\s*```nginx\nserver \{\n([\s\S]*?)\n\}\n```\s*<!-- \/nginx-offload -->/.exec(text);
  if (!m) throw new Error('docs/configuration.md has no nginx-offload block');
  const body = m[1].replace(/^\s*(listen|server_name) .*;\n/gm, '');
  for (const placeholder of ['http://127.0.0.1:8080;', 'alias /var/lib/stowage/data/packages/;'])
    if (!body.includes(placeholder)) throw new Error(`the nginx-offload block no longer says ${placeholder}`);
  return body.replace('http://127.0.0.1:8080;', `${upstream};`).replace('alias /var/lib/stowage/data/packages/;', `alias ${storagePath}/;`);
}

/** Debian's nginx (`nginx-light`), installed by scripts/install-clients.sh. */
export const NGINX = process.env.STOWAGE_TEST_NGINX ?? '/usr/sbin/nginx';

export interface TestNginx {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Its prefix directory: nginx.conf, pid file, error.log, temp paths. */
  dir: string;
  /** The error log so far (to explain a failure). */
  errorLog(): Promise<string>;
  /** Stops nginx (fast shutdown) and removes its directory. */
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * A real nginx in the foreground on a free port of 127.0.0.1, with its own prefix directory
 * (config, pid file, error log, temp paths: nothing of the system's nginx). `server` is the
 * body of its one `server {}` block (locations); `http` goes into the `http {}` block.
 * Resolves once it accepts connections.
 */
export async function startTestNginx(opts: { server: string; http?: string }): Promise<TestNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-nginx-'));
  const port = await freePort();
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${opts.http ?? ''}
  server {
    listen 127.0.0.1:${port};
    ${opts.server}
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const errorLog = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const close = async () => {
    if (!exited(child)) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`nginx on port ${port}`, async () => {
      if (exited(child)) throw new Error(`nginx exited with ${child.exitCode ?? child.signalCode}: ${stderr}${await errorLog()}`);
      return accepts(port);
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, port, dir, errorLog, close };
}
