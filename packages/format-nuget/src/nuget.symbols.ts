import { createHash } from 'node:crypto';

import type { ZipReader } from '@stowage/core';

// Portable PDBs inside a .snupkg, indexed the way symbol servers look them up:
// `<file>/<signature>/<file>` with `Symbolchecksum: SHA256:<hex>`
// (https://github.com/dotnet/symstore/blob/main/docs/specs/SSQP_Key_Conventions.md).

export interface SymbolFile {
  /** The entry's path in the .snupkg. */
  path: string;
  /** Its file name, lower case (lookups are case-insensitive). */
  fileName: string;
  /** The PDB id's GUID in its text order, 32 lower-case hex digits, then `ffffffff`. */
  signature: string;
  /** SHA-256 of the file with its PDB id zeroed (the PE debug directory's PDB checksum), hex. */
  checksum: string;
}

/** PDBs larger than this are stored but not indexed. */
export const MAX_PDB = 32 * 1024 * 1024;
/** Bytes of PDBs inflated to index one symbol package; PDBs past it are stored but not indexed. */
export const MAX_PDB_TOTAL = 8 * MAX_PDB;

/** The offset of the 20-byte PDB id (the `#Pdb` stream's start), or -1 if this is no portable PDB. */
export function pdbIdOffset(buf: Buffer): number {
  if (buf.length < 32 || buf.readUInt32LE(0) !== 0x424a5342) return -1;
  const versionLength = buf.readUInt32LE(12);
  let p = 16 + versionLength + 2;
  if (p + 2 > buf.length) return -1;
  const streams = buf.readUInt16LE(p);
  p += 2;
  for (let n = 0; n < streams && p + 8 < buf.length; n++) {
    const offset = buf.readUInt32LE(p);
    const nameStart = p + 8;
    const nameEnd = buf.indexOf(0, nameStart);
    if (nameEnd < 0) return -1;
    const name = buf.toString('latin1', nameStart, nameEnd);
    if (name === '#Pdb') return offset + 20 <= buf.length ? offset : -1;
    p = nameStart + Math.ceil((nameEnd - nameStart + 1) / 4) * 4;
  }
  return -1;
}

export function symbolFileOf(path: string, buf: Buffer): SymbolFile | null {
  const at = pdbIdOffset(buf);
  if (at < 0) return null;
  const g = buf.subarray(at, at + 16);
  const hex = (b: Buffer) => b.toString('hex');
  const guid =
    hex(Buffer.from(g.subarray(0, 4)).reverse()) +
    hex(Buffer.from(g.subarray(4, 6)).reverse()) +
    hex(Buffer.from(g.subarray(6, 8)).reverse()) +
    hex(g.subarray(8, 16));
  const zeroed = Buffer.from(buf);
  zeroed.fill(0, at, at + 20);
  return {
    path,
    fileName: path.slice(path.lastIndexOf('/') + 1).toLowerCase(),
    signature: `${guid}ffffffff`,
    checksum: createHash('sha256').update(zeroed).digest('hex'),
  };
}

/**
 * The ids of the package's portable PDBs, each read whole (its checksum covers all of it), up
 * to MAX_PDB_TOTAL inflated in all: a package of many small deflated PDBs of zeros costs the
 * server at most that much work, whatever their number. (Sizes are the central directory's;
 * the reader holds each entry to its own.)
 */
export async function readPdbIds(zip: ZipReader): Promise<SymbolFile[]> {
  const out: SymbolFile[] = [];
  let budget = MAX_PDB_TOTAL;
  for (const e of zip.entries) {
    if (e.isDirectory || !e.name.toLowerCase().endsWith('.pdb') || e.uncompressedSize > Math.min(MAX_PDB, budget)) continue;
    budget -= e.uncompressedSize;
    const file = symbolFileOf(e.name, await zip.readEntry(e, { maxSize: MAX_PDB }));
    if (file) out.push(file);
  }
  return out;
}
