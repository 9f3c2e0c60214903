import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** `127.0.0.2:9000` as /proc/net/tcp spells it (`0200007F:2328`). */
function procTcpAddress(host: string, port: number): string {
  const ip = host
    .split('.')
    .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
  return `${ip}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The inodes of this process's TCP sockets with one end at one of `endpoints`. */
async function socketInodes(endpoints: { host: string; port: number }[]): Promise<Set<string>> {
  const wanted = new Set(endpoints.map((e) => procTcpAddress(e.host, e.port)));
  const inodes = new Set<string>();
  for (const line of (await readFile('/proc/self/net/tcp', 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && (wanted.has(f[1]) || wanted.has(f[2]))) inodes.add(f[9]);
  }
  return inodes;
}

/**
 * The open file descriptors of this process and what each points at (`socket:[…]`, a path).
 * A test server runs in the Jest process, so its descriptors are among them. Sockets with an
 * end at one of `except` (an object store's pooled keep-alive connections) are left out.
 */
export async function openDescriptors(opts: { except?: { host: string; port: number }[] } = {}): Promise<string[]> {
  const names = await readdir('/proc/self/fd');
  // The directory handle readdir used is listed too, and gone by now: it reads as null.
  const links = await Promise.all(names.map((n) => readlink(`/proc/self/fd/${n}`).catch(() => null)));
  const skipped = opts.except?.length ? await socketInodes(opts.except) : new Set<string>();
  return links.filter((l): l is string => l !== null && !skipped.has(/^socket:\[(\d+)\]$/.exec(l)?.[1] ?? ''));
}

/** A client connection that speaks raw HTTP/1.1: whatever bytes the test writes, nothing more. */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): Buffer;
  /** Resolves when the server has closed its side (or the socket failed). */
  closed: Promise<void>;
  write(bytes: Buffer | string): Promise<void>;
}

export async function rawConnection(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
    socket.on('error', () => resolve());
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed,
    write: (bytes) => new Promise<void>((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve()))),
  };
}

/** The request line and headers of an HTTP/1.1 request, as bytes. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}

/**
 * The server side of connections to `server`, in the order they arrive: a test waits on
 * `bytesRead` to know the server has taken in everything it sent.
 */
export function serverSockets(server: Server): { sockets: Socket[]; stop(): void } {
  const sockets: Socket[] = [];
  const onConnection = (s: Socket) => sockets.push(s);
  server.on('connection', onConnection);
  return { sockets, stop: () => server.off('connection', onConnection) };
}
