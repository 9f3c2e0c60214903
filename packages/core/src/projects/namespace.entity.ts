import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import type { Visibility } from './visibility';

/** A group or a user's personal namespace: what projects live in. */
@Entity('namespaces')
export class Namespace {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) kind!: 'group' | 'user';
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'varchar' }) path!: string;
  @Column({ type: 'varchar' }) full_path!: string;
  @Column({ type: 'int', nullable: true }) parent_id!: number | null;
  /** Ids from the root namespace down to this one (inclusive), as GitLab keeps them. */
  @Column({ type: 'int', array: true }) traversal_ids!: number[];
  @Column({ type: 'varchar' }) visibility!: Visibility;
  @Column({ type: 'text' }) description!: string;
  /** Being deleted: hidden everywhere while a background job removes it (ResourceRemoval). */
  @Column({ type: 'boolean', default: false }) pending_delete!: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
