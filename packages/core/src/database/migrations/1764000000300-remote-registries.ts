import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Remote registries: metadata documents fetched from upstreams (with their validators, so a
 * stale copy can be revalidated and served when the upstream fails), files fetched from them
 * (blobs, like every package file), and groups' forwarding switch and lock per format.
 */
export class RemoteRegistries1764000000300 implements MigrationInterface {
  name = 'RemoteRegistries1764000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE remote_documents (
        id bigserial PRIMARY KEY,
        package_type text NOT NULL,
        package_name text NOT NULL,
        url text NOT NULL,
        status integer NOT NULL,
        body bytea,
        content_type text,
        etag text,
        last_modified text,
        revision integer NOT NULL DEFAULT 1,
        fetched_at timestamptz NOT NULL DEFAULT now(),
        checked_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (package_type, url)
      )`);
    await q.query('CREATE INDEX remote_documents_name ON remote_documents (package_type, package_name)');
    await q.query(`
      CREATE TABLE remote_files (
        id bigserial PRIMARY KEY,
        package_type text NOT NULL,
        package_name text NOT NULL,
        version text,
        file_name text NOT NULL,
        url text NOT NULL,
        file_sha256 char(64) NOT NULL REFERENCES blobs(sha256),
        size bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (package_type, url)
      )`);
    await q.query('CREATE INDEX remote_files_sha256 ON remote_files (file_sha256)');
    await q.query('CREATE INDEX remote_files_name ON remote_files (package_type, package_name)');
    await q.query('CREATE INDEX remote_files_last_used ON remote_files (last_used_at)');
    await q.query(`
      CREATE TABLE namespace_forwarding (
        namespace_id integer NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
        package_type text NOT NULL,
        forwarding boolean,
        locked boolean NOT NULL DEFAULT false,
        PRIMARY KEY (namespace_id, package_type)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE namespace_forwarding');
    await q.query('DROP TABLE remote_files');
    await q.query('DROP TABLE remote_documents');
  }
}
