import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables whose rows decide who a request is, what it may read or write, and where a miss goes. */
export const ACCESS_TABLES = ['tokens', 'users', 'members', 'projects', 'namespaces', 'namespace_forwarding'] as const;
export const ACCESS_CHANNEL = 'stowage_access';

/**
 * Every change to a table that decides access moves `access_epoch.epoch` in the same
 * transaction and is announced on the `stowage_access` channel (the payload is the table's
 * name), so each server process knows when what it keeps of those rows is out of date: a
 * request that reads the epoch after a change committed sees the change. Triggers, not
 * application code, do it, so no write path (nor an operator's SQL) can forget to. A token's
 * last_used_at, refreshed as it is used, is no change of access and moves nothing.
 */
export class AccessNotifications1764000000400 implements MigrationInterface {
  name = 'AccessNotifications1764000000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE access_epoch (one boolean PRIMARY KEY DEFAULT true CHECK (one), epoch bigint NOT NULL)');
    await q.query('INSERT INTO access_epoch (epoch) VALUES (1)');
    await q.query(`
      CREATE FUNCTION stowage_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE access_epoch SET epoch = epoch + 1;
        PERFORM pg_notify('${ACCESS_CHANNEL}', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    // Row triggers deferred to commit: the epoch row is locked only while the transaction
    // commits, after all its other work, so two writers cannot deadlock on it.
    for (const table of ACCESS_TABLES) {
      const events = table === 'tokens' ? 'INSERT OR DELETE' : 'INSERT OR UPDATE OR DELETE';
      await q.query(
        `CREATE CONSTRAINT TRIGGER ${table}_access_changed AFTER ${events} ON ${table} DEFERRABLE INITIALLY DEFERRED
         FOR EACH ROW EXECUTE FUNCTION stowage_access_changed()`,
      );
      await q.query(`CREATE TRIGGER ${table}_access_truncated AFTER TRUNCATE ON ${table} EXECUTE FUNCTION stowage_access_changed()`);
    }
    await q.query(`
      CREATE CONSTRAINT TRIGGER tokens_access_updated AFTER UPDATE ON tokens DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
      EXECUTE FUNCTION stowage_access_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER tokens_access_updated ON tokens');
    for (const table of ACCESS_TABLES) {
      await q.query(`DROP TRIGGER ${table}_access_changed ON ${table}`);
      await q.query(`DROP TRIGGER ${table}_access_truncated ON ${table}`);
    }
    await q.query('DROP FUNCTION stowage_access_changed()');
    await q.query('DROP TABLE access_epoch');
  }
}
