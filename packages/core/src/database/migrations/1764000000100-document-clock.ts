import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When each rendered document last changed, shared by every server process (DocumentClock). */
export class DocumentClock1764000000100 implements MigrationInterface {
  name = 'DocumentClock1764000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE document_clock (
        doc char(64) PRIMARY KEY,
        etag text NOT NULL,
        changed_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE document_clock');
  }
}
