import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import { bigintAsNumber } from '../database/column-types';

/** A file of a package version; its bytes are the blob named by its sha256. */
@Entity('package_files')
export class PackageFile {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) package_id!: number;
  @Column({ type: 'varchar' }) file_name!: string;
  @Column({ type: 'bigint', transformer: bigintAsNumber }) size!: number;
  @Column({ type: 'char', length: 64 }) file_sha256!: string;
  @Column({ type: 'char', length: 32 }) file_md5!: string;
  @Column({ type: 'char', length: 40 }) file_sha1!: string;
  @Column({ type: 'char', length: 128 }) file_sha512!: string;
  /** Format-owned data about this file (a wheel's METADATA, a Conan file kind, …). */
  @Column({ type: 'jsonb' }) metadata!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
