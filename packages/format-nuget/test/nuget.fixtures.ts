// Hand-made package parts for the cases `nuget pack` cannot produce (bad input, symbol
// packages); zip them with @stowage/testkit's buildZip.

/** A minimal portable PDB: the metadata root with one `#Pdb` stream holding the PDB id. */
export function portablePdb(guid: string, stamp = 0x01020304): Buffer {
  const version = Buffer.from('PDB v1.0\0\0\0\0');
  const head = Buffer.alloc(16);
  head.writeUInt32LE(0x424a5342, 0);
  head.writeUInt16LE(1, 4);
  head.writeUInt16LE(1, 6);
  head.writeUInt32LE(version.length, 12);
  const streams = Buffer.alloc(4 + 8 + 8);
  streams.writeUInt16LE(0, 0);
  streams.writeUInt16LE(1, 2);
  const dataOffset = head.length + version.length + streams.length;
  streams.writeUInt32LE(dataOffset, 4);
  streams.writeUInt32LE(32, 8);
  streams.write('#Pdb\0\0\0\0', 12, 'latin1');
  const hex = guid.replace(/-/g, '');
  const g = Buffer.from(hex, 'hex');
  const id = Buffer.concat([
    Buffer.from(g.subarray(0, 4)).reverse(),
    Buffer.from(g.subarray(4, 6)).reverse(),
    Buffer.from(g.subarray(6, 8)).reverse(),
    g.subarray(8, 16),
  ]);
  const pdbId = Buffer.alloc(32);
  id.copy(pdbId, 0);
  pdbId.writeUInt32LE(stamp, 16);
  return Buffer.concat([head, version, streams, pdbId]);
}

export function nuspecXml(
  id: string,
  version: string,
  extra = '',
  opts: { authors?: string | null; description?: string | null } = {},
): string {
  const authors = opts.authors === null ? '' : `<authors>${opts.authors ?? 'Tester'}</authors>`;
  const description = opts.description === null ? '' : `<description>${opts.description ?? 'A package'}</description>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata><id>${id}</id><version>${version}</version>${authors}${description}${extra}</metadata>
</package>`;
}
