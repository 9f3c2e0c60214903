import { createHash } from 'node:crypto';

export interface RenderedDocument {
  body: Buffer;
  etag: string;
}

/**
 * Rendered index pages by key (which includes the revision they were rendered at), least
 * recently used dropped first. A key never goes stale: a change makes a new key.
 */
export class RenderCache {
  private readonly entries = new Map<string, RenderedDocument>();

  constructor(private readonly maxEntries: number) {}

  async get(key: string, render: () => Promise<string>): Promise<RenderedDocument> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const body = Buffer.from(await render());
    const doc = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
    if (this.maxEntries > 0) {
      this.entries.set(key, doc);
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return doc;
  }
}
