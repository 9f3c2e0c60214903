import { apiPackageType } from '../packages/package-types';
import { type CleanupPlan, planFiles } from './cleanup-planner';

const sum = (sizes: number[]) => sizes.reduce((a, b) => a + b, 0);

/**
 * A plan as the dry run answers it, and a run's deletions in the same shape: the package
 * versions deleted whole (with their files), the duplicated files deleted from kept versions,
 * their sizes summed (`size`) and the bytes the blob collector frees afterwards
 * (`bytes_freed`: blobs no other file uses; equal bytes are stored once).
 */
export function planJson(plan: CleanupPlan) {
  const files = planFiles(plan);
  return {
    packages_count: plan.packages.length,
    package_files_count: files.length,
    size: sum(files.map((f) => f.size)),
    bytes_freed: plan.bytesFreed,
    packages: plan.packages.map((p) => ({
      id: p.id,
      name: p.name,
      version: p.version,
      package_type: apiPackageType(p.package_type),
      reason: p.reason,
      size: sum(p.files.map((f) => f.size)),
      package_files: p.files.map((f) => ({ id: f.id, file_name: f.file_name, size: f.size, file_sha256: f.file_sha256 })),
    })),
    package_files: plan.duplicates.map((d) => ({
      id: d.file.id,
      package_id: d.package.id,
      package_name: d.package.name,
      package_version: d.package.version === '' ? null : d.package.version,
      package_type: apiPackageType(d.package.package_type),
      file_name: d.file.file_name,
      size: d.file.size,
      file_sha256: d.file.file_sha256,
      reason: 'keep_n_duplicated_package_files',
    })),
  };
}
