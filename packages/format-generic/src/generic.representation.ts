import type { PackageFile } from '@stowage/core';

/** The record GitLab answers `?select=package_file` with (SDKs read id, package_id, file_name, size, file_sha256). */
export function genericFileJson(file: PackageFile) {
  return {
    id: file.id,
    package_id: file.package_id,
    created_at: file.created_at,
    updated_at: file.updated_at,
    size: file.size,
    file_store: 1,
    file_md5: file.file_md5,
    file_sha1: file.file_sha1,
    file_name: file.file_name,
    file_sha256: file.file_sha256,
    verification_retry_at: null,
    verified_at: null,
    verification_failure: null,
    verification_retry_count: null,
    verification_checksum: null,
    verification_state: 0,
    verification_started_at: null,
    new_file_path: null,
  };
}
