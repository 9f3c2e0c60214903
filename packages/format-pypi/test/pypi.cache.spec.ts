import { gunzipSync } from 'node:zlib';

import { RenderCache } from '../src/pypi.cache';

describe('pypi RenderCache', () => {
  it('keeps each page and its gzip in allocations of their own, not slices of a shared 8 KiB slab', async () => {
    const cache = new RenderCache(10);
    const page = '<!DOCTYPE html><html><body><a href="x-1.0.tar.gz">x-1.0.tar.gz</a></body></html>';
    const doc = await cache.get('page:p1:x:1:html', async () => page);
    expect(doc.body.toString()).toBe(page);
    expect(gunzipSync(doc.gzip).toString()).toBe(page);
    expect([doc.body.buffer.byteLength, doc.gzip.buffer.byteLength]).toEqual([doc.body.length, doc.gzip.length]);
    expect(await cache.get('page:p1:x:1:html', async () => 'not rendered again')).toBe(doc);
  });
});
