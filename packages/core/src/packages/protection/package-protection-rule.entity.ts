import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * One project's rule on the packages of one type whose name matches `package_name_pattern`
 * (`*` any run of characters, case-insensitive, as GitLab): callers below a minimum level may
 * not push (null: Developers may, as without a rule) or delete (null: Maintainers may).
 */
@Entity('package_protection_rules')
export class PackageProtectionRule {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) project_id!: number;
  /** Stowage's type (`go`, not GitLab's `golang`: see `package-type-names.ts`). */
  @Column({ type: 'varchar' }) package_type!: string;
  @Column({ type: 'varchar' }) package_name_pattern!: string;
  @Column({ type: 'smallint', nullable: true }) minimum_access_level_for_push!: number | null;
  @Column({ type: 'smallint', nullable: true }) minimum_access_level_for_delete!: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
