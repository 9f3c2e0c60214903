import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each `stowage packages migrate` run's progress, so any server can show it (the admin page). */
export class BlobMigrationRuns1764000000600 implements MigrationInterface {
  name = 'BlobMigrationRuns1764000000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE blob_migration_runs (
        id varchar(36) PRIMARY KEY,
        target varchar(16) NOT NULL,
        total bigint NOT NULL,
        done bigint NOT NULL DEFAULT 0,
        moved bigint NOT NULL DEFAULT 0,
        skipped bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        interrupted boolean NOT NULL DEFAULT false,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query('CREATE INDEX blob_migration_runs_started ON blob_migration_runs (started_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE blob_migration_runs');
  }
}
