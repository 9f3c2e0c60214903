import { bufferZipSource, ZipReader } from '@stowage/core';
import { buildZip } from '@stowage/testkit';

import { MAX_PDB, MAX_PDB_TOTAL, readPdbIds } from '../src/nuget.symbols';
import { portablePdb } from './nuget.fixtures';

describe('readPdbIds', () => {
  it(`indexes PDBs up to ${MAX_PDB_TOTAL} bytes inflated in all, whatever their number`, async () => {
    const guid = (i: number) => `8f3c2d1e-0b4a-4c5d-9e6f-${String(i).padStart(12, '0')}`;
    // Ten PDBs of 32 MiB, mostly zeros: about 32 KiB each once deflated.
    const pdbs = Array.from({ length: 10 }, (_, i) => {
      const pdb = Buffer.alloc(MAX_PDB);
      portablePdb(guid(i)).copy(pdb);
      return { name: `lib/net8.0/p${i}.pdb`, data: pdb };
    });
    const zip = await ZipReader.open(bufferZipSource(buildZip(pdbs)));
    const ids = await readPdbIds(zip);
    expect(ids.map((f) => f.path)).toEqual(pdbs.slice(0, MAX_PDB_TOTAL / MAX_PDB).map((p) => p.name));
    expect(ids[0].signature).toBe(`${guid(0).replace(/-/g, '')}ffffffff`);
    // CPU-bound by design (320 MiB deflated, 256 MiB inflated): it once took 71 s beside a busy suite.
  }, 180_000);
});
