import { gunzipSync } from 'node:zlib';

import { compressedBody, renderedDocument, RenderedDocuments } from '../src/rendering';

const doc = (bytes: number, fill = 'x') => renderedDocument(fill.repeat(bytes));

describe('RenderedDocuments', () => {
  it('keeps a document for its revision and renders again when the revision moves, replacing it', async () => {
    const cache = new RenderedDocuments({ maxBytes: 1024 ** 2 });
    const render = jest.fn(async () => doc(100));
    const first = await cache.get('npm\u0000a', 1, render);
    const oneEntry = cache.size;
    expect(await cache.get('npm\u0000a', '1', render)).toBe(first);
    expect(render).toHaveBeenCalledTimes(1);

    const newer = await cache.get('npm\u0000a', 2, async () => doc(100, 'y'));
    expect(newer).not.toBe(first);
    // One entry per key: the old revision is gone, not kept beside the new one.
    expect(cache.size).toBe(oneEntry);
    expect(await cache.get('npm\u0000a', 1, async () => doc(100, 'z'))).not.toBe(first);
  });

  it('is bounded by bytes: the least recently used documents go first', async () => {
    const cache = new RenderedDocuments({ maxBytes: 4000 });
    const a = await cache.get('a', 1, async () => doc(700));
    await cache.get('b', 1, async () => doc(700));
    await cache.get('c', 1, async () => doc(700));
    expect(await cache.get('a', 1, async () => doc(700))).toBe(a); // a is now the most recent
    await cache.get('d', 1, async () => doc(700));
    await cache.get('e', 1, async () => doc(700)); // five do not fit in 4000 bytes
    expect(cache.size).toBeLessThanOrEqual(4000);
    const rerendered = jest.fn(async () => doc(700));
    await cache.get('a', 1, rerendered);
    expect(rerendered).not.toHaveBeenCalled();
    await cache.get('b', 1, rerendered);
    expect(rerendered).toHaveBeenCalledTimes(1);
  });

  it('does not keep a document bigger than a quarter of the bound', async () => {
    const cache = new RenderedDocuments({ maxBytes: 4000 });
    await cache.get('big', 1, async () => doc(1500));
    expect(cache.size).toBe(0);
  });

  it('counts compressed variants made later toward the bound', async () => {
    const cache = new RenderedDocuments({ maxBytes: 1024 ** 2 });
    const d = await cache.get('a', 1, async () => renderedDocument(JSON.stringify([...Array(500).keys()])));
    const before = cache.size;
    const gz = await compressedBody(d, 'gzip');
    await new Promise((r) => setImmediate(r));
    expect(cache.size).toBe(before + gz.length);
    expect(await compressedBody(d, 'gzip')).toBe(gz);
  });

  it('makes one render for concurrent callers of a key and revision', async () => {
    const cache = new RenderedDocuments();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const render = jest.fn(async () => {
      await gate;
      return doc(10);
    });
    const callers = Array.from({ length: 8 }, () => cache.get('k', 7, render));
    release();
    const docs = await Promise.all(callers);
    expect(render).toHaveBeenCalledTimes(1);
    expect(new Set(docs).size).toBe(1);
  });

  it('does not keep a failed render: its waiters see the error, the next caller renders again', async () => {
    const cache = new RenderedDocuments();
    let fail!: (e: Error) => void;
    const failing = jest.fn(() => new Promise<never>((_, reject) => (fail = reject)));
    const callers = [cache.get('k', 1, failing), cache.get('k', 1, failing)];
    fail(new Error('database gone'));
    await expect(Promise.all(callers)).rejects.toThrow('database gone');
    expect(failing).toHaveBeenCalledTimes(1);
    const ok = await cache.get('k', 1, async () => doc(10));
    expect(ok.body.length).toBe(10);
    expect(await cache.get('k', 1, async () => doc(20))).toBe(ok);
  });

  it('caches a document that does not exist (null) for its revision', async () => {
    const cache = new RenderedDocuments();
    const render = jest.fn(async () => null);
    expect(await cache.get('k', 3, render)).toBeNull();
    expect(await cache.get('k', 3, render)).toBeNull();
    expect(render).toHaveBeenCalledTimes(1);
  });

  it('sizes other values with the caller’s estimate', async () => {
    const cache = new RenderedDocuments({ maxBytes: 4000 });
    await cache.get(
      'list',
      1,
      async () => ['1.0', '2.0'],
      () => 2000,
    );
    expect(cache.size).toBe(0); // over a quarter of the bound
    await cache.get(
      'list',
      1,
      async () => ['1.0'],
      () => 500,
    );
    expect(cache.size).toBeGreaterThanOrEqual(500);
  });

  it('keeps nothing with a bound of 0, and still coalesces', async () => {
    const cache = new RenderedDocuments({ maxBytes: 0 });
    const render = jest.fn(async () => doc(10));
    await Promise.all([cache.get('k', 1, render), cache.get('k', 1, render)]);
    await cache.get('k', 1, render);
    expect(render).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });
});

describe('renderedDocument', () => {
  it('gives a small body an allocation of its own, so the byte bound counts what it holds', () => {
    const d = renderedDocument('<metadata><version>1.0</version></metadata>');
    expect(d.body.buffer.byteLength).toBe(d.body.length);
  });

  it('gives each compressed variant an allocation of its own too', async () => {
    const d = renderedDocument('<!DOCTYPE html><html><body><a href="x-1.0.tar.gz">x-1.0.tar.gz</a></body></html>');
    const gz = await compressedBody(d, 'gzip');
    expect(gunzipSync(gz).toString()).toBe(d.body.toString());
    expect(gz.buffer.byteLength).toBe(gz.length);
  });
});
