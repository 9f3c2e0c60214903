import { ownedBytes } from '../src/owned-bytes';

describe('ownedBytes', () => {
  const xml = '<metadata><groupId>acme</groupId><artifactId>app</artifactId></metadata>';

  it('gives a small string an allocation of its own, where Buffer.from cuts it out of the shared 8 KiB slab', () => {
    expect(Buffer.from(xml).buffer.byteLength).toBe(Buffer.poolSize);
    const bytes = ownedBytes(xml);
    expect([bytes.toString(), bytes.byteOffset, bytes.buffer.byteLength]).toEqual([xml, 0, xml.length]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const text = 'Größe ✓ 📦';
    const bytes = ownedBytes(text);
    expect(bytes.equals(Buffer.from(text))).toBe(true);
    expect(bytes.buffer.byteLength).toBe(Buffer.byteLength(text));
  });

  it('copies a Buffer that shares its allocation and keeps one that owns it', () => {
    const pooled = Buffer.concat([Buffer.from('a'), Buffer.from('b')]);
    expect(pooled.buffer.byteLength).toBe(Buffer.poolSize);
    const copy = ownedBytes(pooled);
    expect([copy.toString(), copy.buffer.byteLength]).toEqual(['ab', 2]);

    const large = Buffer.alloc(64 * 1024, 1);
    expect(ownedBytes(large)).toBe(large);
  });
});
