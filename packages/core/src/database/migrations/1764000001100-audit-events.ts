import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log (GitLab's `audit_events`), listed by the audit events API. */
export class AuditEvents1764000001100 implements MigrationInterface {
  name = 'AuditEvents1764000001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        author_id integer NOT NULL,
        entity_type varchar(16) NOT NULL,
        entity_id integer NOT NULL,
        event_name varchar(100) NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, id)');
    await q.query('CREATE INDEX audit_events_created_at ON audit_events (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_events');
  }
}
