import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Project and group access tokens: each is a personal token of a bot user (GitLab's
 * `project_bot` users) who is a member of the project or group at the token's level. The token
 * row names its project or group (`project_id` / `namespace_id`, as deploy tokens do).
 */
export class ResourceAccessTokens1764000000900 implements MigrationInterface {
  name = 'ResourceAccessTokens1764000000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN bot boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE tokens ADD COLUMN description text');
    // Listings by project or group (deploy tokens, project and group access tokens).
    await q.query('CREATE INDEX tokens_project ON tokens (project_id) WHERE project_id IS NOT NULL');
    await q.query('CREATE INDEX tokens_namespace ON tokens (namespace_id) WHERE namespace_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX tokens_namespace');
    await q.query('DROP INDEX tokens_project');
    await q.query('ALTER TABLE tokens DROP COLUMN description');
    await q.query('ALTER TABLE users DROP COLUMN bot');
  }
}
