import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';

/** A server run as a child process on a fixed port of 127.0.0.1, which can be stopped and started again. */
export interface ChildServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit; a no-op when stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same files (stops it first if it runs). */
  restart(): Promise<void>;
  /** Whether the process runs now. */
  running(): boolean;
  /** The last 64 KiB of what the process printed (stdout and stderr). */
  output(): string;
}

export interface ChildServerSpec {
  /** For error messages. */
  name: string;
  command: string;
  args: (port: number) => string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The path polled with GET until it answers 2xx (e.g. `/-/ping`). */
  readyPath: string;
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Children must not outlive a test process that ends without calling stop(). */
function trackChild(child: ChildProcess) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** A port the kernel just handed out on 127.0.0.1 (free when returned; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** One GET with a short timeout: the status, or 0 when nothing answered. */
export function probeStatus(url: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/**
 * Starts `spec` on a free port and polls `readyPath` until it answers. On the first start a
 * port taken by someone else between freePort() and the child's bind shows as an early exit:
 * it is retried on another port. Later restarts keep the port.
 */
export async function startChildServer(spec: ChildServerSpec): Promise<ChildServer> {
  let out = '';
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const proc = spawn(spec.command, spec.args(port), {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(proc);
    child = proc;
    const keep = (c: Buffer) => {
      out = (out + c.toString('utf8')).slice(-65_536);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited: string | undefined;
    proc.once('exit', (code, signal) => {
      exited = `exited (${signal ?? code})`;
    });
    proc.once('error', (err) => {
      exited = `failed to start: ${err.message}`;
    });
    const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (exited) throw new Error(`${spec.name} ${exited} before it was ready on port ${port}:\n${out}`);
      const status = await probeStatus(`http://127.0.0.1:${port}${spec.readyPath}`);
      if (status >= 200 && status < 300) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${spec.name} was not ready on port ${port} after ${spec.readyTimeoutMs ?? 60_000} ms:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await stop();
      if (attempt >= 3 || !/EADDRINUSE|Address already in use/.test(String(err))) throw err;
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    output: () => out,
  };
}
