import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

import type { FastifyReply } from 'fastify';

import type { ByteRange } from './blob-store';

/*
 * Own code for a measured reason: a file streamed with createReadStream().pipe(res) allocates
 * a new buffer per 64 KiB chunk, and at disk speed those allocations are external memory that
 * sets off a full (mark-compact) collection of the server's whole heap every few tens of
 * megabytes: half the main thread went to GC, and a 100 MiB download ran at under half the
 * speed of plain Node serving the same file (bench/downloads.mjs). Here each response reads
 * into a few buffers of a shared pool and reuses each once the socket has taken its bytes, so
 * a download allocates nothing per chunk.
 */

/** Bytes per read and write: fewer, larger chunks cost fewer syscalls and callbacks. */
const CHUNK = 256 * 1024;
/** Chunks a response has read and not yet handed to the kernel: read-ahead, and its memory bound. */
const IN_FLIGHT = 2;
/** Idle chunks the pool keeps for the next responses (the rest are left to the GC). */
const POOL_MAX = 32;

const pool: Buffer[] = [];
const takeBuffer = () => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const giveBuffer = (b: Buffer) => {
  if (pool.length < POOL_MAX) pool.push(b);
};

/**
 * Sends `range` of the open file as the body of `reply`, with the status and headers set on
 * it, then closes the file. Takes the response over from Fastify (hijack): its onResponse
 * hooks and request log still run when the response finishes. A read that fails or comes up
 * short once the headers are out can only cut the connection (the client sees fewer bytes
 * than the Content-Length); it is logged.
 */
export function sendFileBody(reply: FastifyReply, file: FileHandle, range: ByteRange): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | number | string[]>);
  pump(res, file, range)
    .then(
      () => file.close(),
      (err: unknown) => {
        if (!res.destroyed) reply.log.warn({ err }, 'file download failed mid-stream');
        res.destroy();
        return file.close();
      },
    )
    .catch((err: unknown) => reply.log.warn({ err }, 'could not close a downloaded file'));
  return reply;
}

async function pump(res: ServerResponse, file: FileHandle, range: ByteRange): Promise<void> {
  let free = IN_FLIGHT;
  let wake: (() => void) | undefined;
  const released = () => {
    free++;
    wake?.();
  };
  res.once('close', () => wake?.());
  for (let pos = range.start; pos <= range.end;) {
    while (free === 0 && !res.destroyed) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    if (res.destroyed) return;
    const buf = takeBuffer();
    const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK, range.end + 1 - pos), pos);
    if (bytesRead === 0) {
      giveBuffer(buf);
      throw new Error(`the file ended at byte ${pos}, before byte ${range.end}`);
    }
    pos += bytesRead;
    free--;
    // The callback runs once the socket has written the chunk (or failed to): then it is free.
    res.write(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead), () => {
      giveBuffer(buf);
      released();
    });
  }
  res.end();
}
