import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { HashingMeter, OFF_THREAD_MIN_SIZE, SizeLimitExceededError } from '../src/storage/hashing-meter';

const digest = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
/** `body` in chunks of uneven sizes, one larger than the digest worker's ring slots. */
function chunks(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = [1, 7000, 65536, 600_000, 333][i % 5];
    out.push(body.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** `body` in chunks of `n` bytes (a client writing small pieces, as TLS records or chunked encoding give them). */
function even(body: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += n) out.push(body.subarray(at, at + n));
  return out;
}

async function meter(body: Buffer, maxSize?: number, split: (b: Buffer) => Buffer[] = chunks) {
  const m = new HashingMeter(maxSize);
  const received: Buffer[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, done) => {
      received.push(c);
      done();
    },
  });
  await pipeline(Readable.from(split(body)), m, sink);
  return { digests: m.digests(), passed: Buffer.concat(received) };
}

describe('HashingMeter', () => {
  it.each([
    ['a small body (hashed on the main thread)', 5000],
    ['a body at the threshold', OFF_THREAD_MIN_SIZE],
    ['a body one byte over it', OFF_THREAD_MIN_SIZE + 1],
    ['a larger body (md5, sha1, sha512 on the digest worker)', 5 * 1024 * 1024 + 3],
    ['an empty body', 0],
  ])('%s: every digest and the bytes unchanged', async (_what, size) => {
    const body = randomBytes(size);
    const { digests, passed } = await meter(body);
    expect(passed.equals(body)).toBe(true);
    expect(digests).toEqual({
      size,
      md5: digest('md5', body),
      sha1: digest('sha1', body),
      sha256: digest('sha256', body),
      sha512: digest('sha512', body),
    });
  });

  it.each([
    ['1,000-byte chunks', 1000],
    ['16 KiB chunks', 16 * 1024],
    ['chunks of one byte past the threshold', 1],
  ])('a larger body in %s: every digest', async (_what, n) => {
    const body = randomBytes(n === 1 ? OFF_THREAD_MIN_SIZE + 5000 : 3 * 1024 * 1024 + 7);
    const { digests } = await meter(body, undefined, (b) =>
      n === 1 ? [b.subarray(0, OFF_THREAD_MIN_SIZE - 10), ...even(b.subarray(OFF_THREAD_MIN_SIZE - 10), 1)] : even(b, n),
    );
    expect([digests.md5, digests.sha1, digests.sha512]).toEqual([digest('md5', body), digest('sha1', body), digest('sha512', body)]);
  });

  it('uploads at once each get their own digests', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(2 * 1024 * 1024 + i));
    const results = await Promise.all(bodies.map((b) => meter(b)));
    results.forEach((r, i) => expect([r.digests.md5, r.digests.sha512]).toEqual([digest('md5', bodies[i]), digest('sha512', bodies[i])]));
  });

  it('fails past maxSize, and the next upload is hashed correctly', async () => {
    await expect(meter(randomBytes(3 * 1024 * 1024), 2 * 1024 * 1024)).rejects.toBeInstanceOf(SizeLimitExceededError);
    const body = randomBytes(3 * 1024 * 1024);
    expect((await meter(body)).digests.sha1).toBe(digest('sha1', body));
  });
});
