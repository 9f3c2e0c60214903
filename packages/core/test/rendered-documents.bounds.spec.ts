import { randomBytes } from 'node:crypto';

import { compressedBody, renderedDocument, RenderedDocuments } from '../src/rendering';

// A hostile client against the rendered-document cache's bounds.
describe('RenderedDocuments under a hostile client', () => {
  it('counts the bytes of the keys it holds toward its bound (a miss per distinct URL is cached as null)', async () => {
    const maxBytes = 1024 ** 2;
    const cache = new RenderedDocuments({ maxBytes });
    // e.g. maven `<existing g/a>/<255 chars>-SNAPSHOT/maven-metadata.xml`, nuget page bounds:
    // each distinct URL is a key, its miss a cached null counted as 128 bytes whatever the key's length.
    for (let i = 0; i < 20_000; i++) {
      await cache.get(`maven\u0000p1\u0000com/acme/app\u0000${String(i).padStart(1000, 'x')}-SNAPSHOT`, 1, async () => null);
    }
    const keys = [...(cache as unknown as { cache: { keys(): Iterable<string> } }).cache.keys()];
    const keyBytes = keys.reduce((n, k) => n + k.length, 0);
    expect(cache.size).toBeLessThanOrEqual(maxBytes);
    expect(keyBytes).toBeLessThanOrEqual(maxBytes); // was ~8 MB of keys held under a 1 MiB bound
  });

  it('keeps a document whose compressed variant takes it past a quarter of the bound (else every gzip reader re-renders)', async () => {
    const cache = new RenderedDocuments({ maxBytes: 40_000 }); // a quarter: 10,000 bytes
    const render = jest.fn(async () => renderedDocument(randomBytes(4800).toString('hex').slice(0, 9000)));
    const d = await cache.get('npm\u0000big', 1, render);
    await compressedBody(d, 'gzip'); // the first gzip reader: 9,000 + ~5,000 > 10,000
    await new Promise((r) => setImmediate(r));
    await cache.get('npm\u0000big', 1, render);
    expect(render).toHaveBeenCalledTimes(1); // was 2: the entry was dropped when its variant was counted
  });
});
