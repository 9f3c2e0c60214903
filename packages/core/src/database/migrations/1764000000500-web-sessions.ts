import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Web UI sign-ins are tokens of kind `session`, derived from the personal access token used. */
export class WebSessions1764000000500 implements MigrationInterface {
  name = 'WebSessions1764000000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check');
    await q.query("ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check CHECK (kind IN ('personal', 'deploy', 'job', 'session'))");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DELETE FROM tokens WHERE kind = 'session'");
    await q.query('ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check');
    await q.query("ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check CHECK (kind IN ('personal', 'deploy', 'job'))");
  }
}
