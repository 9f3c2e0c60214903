import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

// Starting and stopping the real `stowage` process, as an operator runs it:
// `node apps/server/dist/main.js …`.
export const SERVER_DIR = resolve(__dirname, '..');
export const MAIN = join(SERVER_DIR, 'dist', 'main.js');
export const TOKEN_ANNOUNCEMENT = /Its API token, shown only this once:\s+(\S+)\s/g;

export interface Proc {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every process started and not yet exited: afterAll hooks kill what is left. */
export const running = new Set<Proc>();

/** Environment without the test runner's STOWAGE_* and NODE_OPTIONS, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STOWAGE_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

export function stowage(args: string[], cwd: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const proc: Proc = {
    child,
    pid: child.pid!,
    startedAt: Date.now(),
    stdout: () => out,
    stderr: () => err,
    exited: new Promise((res) => child.on('exit', (code, signal) => res({ code, signal }))),
  };
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

export function describeProc(p: Proc): string {
  return `\n--- stdout ---\n${p.stdout().slice(-3000)}\n--- stderr ---\n${p.stderr().slice(-3000)}`;
}

/** Waits for a process that should end on its own. */
export async function finished(p: Proc, ms = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([p.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  clearTimeout(timer);
  if (result === 'timeout') throw new Error(`stowage (pid ${p.pid}) still running after ${ms} ms${describeProc(p)}`);
  return { ...result, ms: Date.now() - p.startedAt };
}

export async function stop(
  p: Proc,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t = Date.now();
  p.child.kill(signal);
  const r = await finished(p, 30_000);
  return { ...r, ms: Date.now() - t };
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Polls /-/readiness until it answers 200; fails early if the process dies. */
export async function ready(p: Proc, base: string, ms = 60_000): Promise<number> {
  const deadline = Date.now() + ms;
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`stowage exited before it was ready${describeProc(p)}`);
    try {
      const res = await fetch(`${base}/-/readiness`);
      if (res.status === 200) return Date.now() - p.startedAt;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`stowage not ready after ${ms} ms${describeProc(p)}`);
}
