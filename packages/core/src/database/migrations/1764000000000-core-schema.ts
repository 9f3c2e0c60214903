import type { MigrationInterface, QueryRunner } from 'typeorm';

// Plain SQL kept to what PostgreSQL 15 and PGlite (PostgreSQL 18) both run.
export class CoreSchema1764000000000 implements MigrationInterface {
  name = 'CoreSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE namespaces (
        id serial PRIMARY KEY,
        kind varchar(16) NOT NULL CHECK (kind IN ('group', 'user')),
        name varchar(255) NOT NULL,
        path varchar(255) NOT NULL,
        full_path varchar(2048) NOT NULL,
        parent_id integer REFERENCES namespaces(id) ON DELETE CASCADE,
        traversal_ids integer[] NOT NULL DEFAULT '{}',
        visibility varchar(16) NOT NULL DEFAULT 'private',
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX namespaces_full_path ON namespaces (lower(full_path))`);
    await q.query(`CREATE INDEX namespaces_parent ON namespaces (parent_id)`);

    await q.query(`
      CREATE TABLE users (
        id serial PRIMARY KEY,
        username varchar(255) NOT NULL,
        name varchar(255) NOT NULL,
        email varchar(255),
        is_admin boolean NOT NULL DEFAULT false,
        state varchar(16) NOT NULL DEFAULT 'active',
        namespace_id integer NOT NULL REFERENCES namespaces(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username ON users (lower(username))`);

    await q.query(`
      CREATE TABLE projects (
        id serial PRIMARY KEY,
        namespace_id integer NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        path varchar(255) NOT NULL,
        full_path varchar(2048) NOT NULL,
        description text NOT NULL DEFAULT '',
        visibility varchar(16) NOT NULL DEFAULT 'private',
        packages_enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX projects_full_path ON projects (lower(full_path))`);
    await q.query(`CREATE INDEX projects_namespace ON projects (namespace_id)`);

    await q.query(`
      CREATE TABLE members (
        id serial PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        source_type varchar(16) NOT NULL CHECK (source_type IN ('project', 'namespace')),
        source_id integer NOT NULL,
        access_level smallint NOT NULL,
        expires_at date,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX members_source_user ON members (source_type, source_id, user_id)`);
    await q.query(`CREATE INDEX members_user ON members (user_id)`);

    await q.query(`
      CREATE TABLE tokens (
        id serial PRIMARY KEY,
        kind varchar(16) NOT NULL CHECK (kind IN ('personal', 'deploy', 'job')),
        name varchar(255) NOT NULL,
        digest char(64) NOT NULL,
        scopes text[] NOT NULL,
        user_id integer REFERENCES users(id) ON DELETE CASCADE,
        project_id integer REFERENCES projects(id) ON DELETE CASCADE,
        namespace_id integer REFERENCES namespaces(id) ON DELETE CASCADE,
        username varchar(255),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX tokens_digest ON tokens (digest)`);
    await q.query(`CREATE INDEX tokens_user ON tokens (user_id)`);

    await q.query(`
      CREATE TABLE packages (
        id serial PRIMARY KEY,
        project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        package_type varchar(32) NOT NULL,
        name varchar(512) NOT NULL,
        normalized_name varchar(512) NOT NULL,
        version varchar(255) NOT NULL DEFAULT '',
        normalized_version varchar(255) NOT NULL DEFAULT '',
        status varchar(24) NOT NULL DEFAULT 'default',
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_downloaded_at timestamptz
      )`);
    // One live package per name and version: concurrent first uploads upsert into it.
    await q.query(`
      CREATE UNIQUE INDEX packages_identity
        ON packages (project_id, package_type, normalized_name, normalized_version)
        WHERE status <> 'pending_destruction'`);
    await q.query(`CREATE INDEX packages_project_created ON packages (project_id, created_at)`);
    await q.query(`CREATE INDEX packages_type_name ON packages (package_type, normalized_name)`);

    // Bumped with every change to any version of a package name: rendered metadata
    // documents are cached under (name, revision), so no process can serve a stale one.
    await q.query(`
      CREATE TABLE package_names (
        project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        package_type varchar(32) NOT NULL,
        normalized_name varchar(512) NOT NULL,
        revision bigint NOT NULL DEFAULT 1,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, package_type, normalized_name)
      )`);

    await q.query(`
      CREATE TABLE blobs (
        sha256 char(64) PRIMARY KEY,
        size bigint NOT NULL,
        md5 char(32) NOT NULL,
        sha1 char(40) NOT NULL,
        sha512 char(128) NOT NULL,
        store varchar(16) NOT NULL,
        storage_key varchar(512) NOT NULL,
        orphaned_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX blobs_orphaned ON blobs (orphaned_at) WHERE orphaned_at IS NOT NULL`);
    await q.query(`CREATE INDEX blobs_store ON blobs (store)`);

    await q.query(`
      CREATE TABLE package_files (
        id serial PRIMARY KEY,
        package_id integer NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
        file_name varchar(1024) NOT NULL,
        size bigint NOT NULL,
        file_sha256 char(64) NOT NULL REFERENCES blobs(sha256),
        file_md5 char(32) NOT NULL,
        file_sha1 char(40) NOT NULL,
        file_sha512 char(128) NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX package_files_package_name ON package_files (package_id, file_name)`);
    await q.query(`CREATE INDEX package_files_sha256 ON package_files (file_sha256)`);

    await q.query(`
      CREATE TABLE package_tags (
        id serial PRIMARY KEY,
        package_id integer NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
        project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        package_type varchar(32) NOT NULL,
        normalized_name varchar(512) NOT NULL,
        name varchar(255) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX package_tags_name ON package_tags (project_id, package_type, normalized_name, name)`);
    await q.query(`CREATE INDEX package_tags_package ON package_tags (package_id)`);

    await q.query(`
      CREATE TABLE package_settings (
        id serial PRIMARY KEY,
        project_id integer REFERENCES projects(id) ON DELETE CASCADE,
        namespace_id integer REFERENCES namespaces(id) ON DELETE CASCADE,
        package_type varchar(32) NOT NULL,
        duplicates_allowed boolean,
        duplicate_exception_regex varchar(255) NOT NULL DEFAULT '',
        CHECK ((project_id IS NULL) <> (namespace_id IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX package_settings_project ON package_settings (project_id, package_type) WHERE project_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX package_settings_namespace ON package_settings (namespace_id, package_type) WHERE namespace_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'package_settings',
      'package_tags',
      'package_files',
      'blobs',
      'package_names',
      'packages',
      'tokens',
      'members',
      'projects',
      'users',
      'namespaces',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
