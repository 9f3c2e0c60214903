import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project or namespace being deleted (DELETE /projects/:id, /groups/:id, /users/:id): hidden
 * from every lookup at once, while a background job removes its packages and then the row.
 * The columns are on access tables, so the change reaches every server's caches (AccessEpoch).
 */
export class PendingDeletion1764000000800 implements MigrationInterface {
  name = 'PendingDeletion1764000000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE projects ADD COLUMN pending_delete boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE namespaces ADD COLUMN pending_delete boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE namespaces DROP COLUMN pending_delete');
    await q.query('ALTER TABLE projects DROP COLUMN pending_delete');
  }
}
