import type { MigrationInterface, QueryRunner } from 'typeorm';

/** GitLab's package protection rules: who may push or delete packages whose name matches a pattern. */
export class PackageProtectionRules1764000000700 implements MigrationInterface {
  name = 'PackageProtectionRules1764000000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE package_protection_rules (
        id serial PRIMARY KEY,
        project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        package_type varchar(32) NOT NULL,
        package_name_pattern varchar(255) NOT NULL,
        minimum_access_level_for_push smallint,
        minimum_access_level_for_delete smallint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (minimum_access_level_for_push IS NOT NULL OR minimum_access_level_for_delete IS NOT NULL)
      )`);
    await q.query(
      'CREATE UNIQUE INDEX package_protection_rules_pattern ON package_protection_rules (project_id, package_type, package_name_pattern)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE package_protection_rules');
  }
}
