import type { EntityManager } from 'typeorm';

/** Stamps the blobs no package file and no cached upstream file uses any more, for the collector. */
export async function markOrphans(manager: EntityManager, shas: string[]): Promise<void> {
  if (!shas.length) return;
  await manager.query(
    `UPDATE blobs b SET orphaned_at = now() WHERE b.sha256 = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM package_files f WHERE f.file_sha256 = b.sha256)
       AND NOT EXISTS (SELECT 1 FROM remote_files r WHERE r.file_sha256 = b.sha256)`,
    [[...new Set(shas)]],
  );
}
