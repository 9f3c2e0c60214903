import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

import { bigintAsNumber } from '../database/column-types';

/** Stored bytes, identified by their sha256; many package files may share one blob. */
@Entity('blobs')
export class Blob {
  @PrimaryColumn({ type: 'char', length: 64 }) sha256!: string;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) size!: number;
  @Column({ type: 'char', length: 32 }) md5!: string;
  @Column({ type: 'char', length: 40 }) sha1!: string;
  @Column({ type: 'char', length: 128 }) sha512!: string;
  /** Which BlobStore holds the bytes: 'local' or 'object'. */
  @Column({ type: 'varchar' }) store!: string;
  @Column({ type: 'varchar' }) storage_key!: string;
  /** Set while no package file is known to use the blob; the collector removes old ones. */
  @Column({ type: 'timestamptz', nullable: true }) orphaned_at!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
}
