/**
 * Bytes for a cache that outlives the request: a Buffer with an allocation of its own.
 *
 * Node cuts Buffers under 4 KiB (Buffer.from of a string, zlib's output, Buffer.concat) out
 * of a shared 8 KiB slab, and a slice keeps its whole slab alive. A cache of small rendered
 * documents built that way holds one slab per entry, each filled with bytes nobody uses: in
 * the soak, 1,216 cached maven-metadata.xml files of ~570 bytes held 9.5 MiB of slabs (14x
 * their size), and a byte bound counting `length` did not see it. Larger Buffers already have
 * their own allocation and are returned as they are.
 */
export function ownedBytes(data: string | Buffer): Buffer {
  if (typeof data !== 'string') {
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data;
    const copy = Buffer.allocUnsafeSlow(data.byteLength);
    data.copy(copy);
    return copy;
  }
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(data));
  bytes.write(data);
  return bytes;
}
