import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Marks the tokens RootBootstrap makes from STOWAGE_ROOT_TOKEN, so a start with a changed value
 * can revoke the earlier ones (and only those). Earlier installs named them STOWAGE_ROOT_TOKEN.
 */
export class RootTokenEnv1764000000200 implements MigrationInterface {
  name = 'RootTokenEnv1764000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens ADD COLUMN from_root_token_env boolean NOT NULL DEFAULT false');
    await q.query(
      `UPDATE tokens SET from_root_token_env = true
       WHERE kind = 'personal' AND name = 'STOWAGE_ROOT_TOKEN' AND user_id = (SELECT id FROM users WHERE username = 'root')`,
    );
    await q.query('CREATE INDEX tokens_from_root_token_env ON tokens (user_id) WHERE from_root_token_env');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens DROP COLUMN from_root_token_env');
  }
}
