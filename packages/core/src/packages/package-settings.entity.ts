import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Duplicate policy of one format for a project or a namespace. The nearest row wins:
 * the project's, then its groups' from the nearest up; none → the format's default.
 */
@Entity('package_settings')
export class PackageSettings {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int', nullable: true }) project_id!: number | null;
  @Column({ type: 'int', nullable: true }) namespace_id!: number | null;
  @Column({ type: 'varchar' }) package_type!: string;
  @Column({ type: 'boolean', nullable: true }) duplicates_allowed!: boolean | null;
  @Column({ type: 'varchar' }) duplicate_exception_regex!: string;
}
