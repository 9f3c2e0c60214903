import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tokens derived from another (a Conan login's bearer) die with the token they came from. */
export class TokenParent1764000000001 implements MigrationInterface {
  name = 'TokenParent1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens ADD COLUMN parent_id integer REFERENCES tokens(id) ON DELETE CASCADE');
    await q.query('CREATE INDEX tokens_parent ON tokens (parent_id) WHERE parent_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens DROP COLUMN parent_id');
  }
}
