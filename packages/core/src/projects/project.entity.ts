import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import type { Visibility } from './visibility';

@Entity('projects')
export class Project {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) namespace_id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'varchar' }) path!: string;
  @Column({ type: 'varchar' }) full_path!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'varchar' }) visibility!: Visibility;
  @Column({ type: 'boolean' }) packages_enabled!: boolean;
  /** Being deleted: hidden everywhere while a background job removes it (ResourceRemoval). */
  @Column({ type: 'boolean', default: false }) pending_delete!: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
