import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import type { PackageStatus } from './package-status';

/** One version of one package in one project, as in GitLab. */
@Entity('packages')
export class Package {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) project_id!: number;
  /** The format plugin's name: generic, npm, pypi, … */
  @Column({ type: 'varchar' }) package_type!: string;
  @Column({ type: 'varchar' }) name!: string;
  /** The format's canonical spelling of the name; what lookups and uniqueness use. */
  @Column({ type: 'varchar' }) normalized_name!: string;
  /** '' for versionless packages. */
  @Column({ type: 'varchar' }) version!: string;
  @Column({ type: 'varchar' }) normalized_version!: string;
  @Column({ type: 'varchar' }) status!: PackageStatus;
  /** Format-owned data (an npm manifest, PyPI requires-python, …). */
  @Column({ type: 'jsonb' }) metadata!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
  @Column({ type: 'timestamptz', nullable: true }) last_downloaded_at!: Date | null;
}
