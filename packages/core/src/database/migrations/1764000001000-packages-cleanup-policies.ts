import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-project packages cleanup policies: GitLab's `keep_n_duplicated_package_files` and
 * `next_run_at`, Stowage's version rules (not downloaded for N days, keep the newest N per
 * name, restricted by a name regex and a package type), and the lease that lets one server at
 * a time run a project's policy.
 */
export class PackagesCleanupPolicies1764000001000 implements MigrationInterface {
  name = 'PackagesCleanupPolicies1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE packages_cleanup_policies (
        project_id integer PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        keep_n_duplicated_package_files varchar(8) NOT NULL DEFAULT 'all',
        keep_n_versions integer,
        not_downloaded_for_days integer,
        package_name_regex text,
        package_type varchar(32),
        next_run_at timestamptz,
        last_run_at timestamptz,
        lease_owner varchar(36),
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX packages_cleanup_policies_due ON packages_cleanup_policies (next_run_at) WHERE next_run_at IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE packages_cleanup_policies');
  }
}
