import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A named pointer (an npm dist-tag, …) to one version of a package name. */
@Entity('package_tags')
export class PackageTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) package_id!: number;
  @Column({ type: 'int' }) project_id!: number;
  @Column({ type: 'varchar' }) package_type!: string;
  @Column({ type: 'varchar' }) normalized_name!: string;
  @Column({ type: 'varchar' }) name!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
