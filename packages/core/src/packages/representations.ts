import type { Package } from './package.entity';
import type { PackageFile } from './package-file.entity';
import { apiPackageType } from './package-types';

export function packageJson(pkg: Package, project: { id: number; full_path: string }, baseUrl: string, tags: string[] = []) {
  return {
    id: pkg.id,
    name: pkg.name,
    version: pkg.version === '' ? null : pkg.version,
    package_type: apiPackageType(pkg.package_type),
    status: pkg.status,
    _links: {
      web_path: `/${project.full_path}/-/packages/${pkg.id}`,
      delete_api_path: `${baseUrl}/api/v4/projects/${project.id}/packages/${pkg.id}`,
    },
    created_at: pkg.created_at,
    last_downloaded_at: pkg.last_downloaded_at,
    pipelines: [],
    tags: tags.map((name) => ({ name, package_id: pkg.id })),
  };
}

export function packageFileJson(f: PackageFile) {
  return {
    id: f.id,
    package_id: f.package_id,
    created_at: f.created_at,
    file_name: f.file_name,
    size: f.size,
    file_md5: f.file_md5,
    file_sha1: f.file_sha1,
    file_sha256: f.file_sha256,
    pipelines: [],
  };
}
