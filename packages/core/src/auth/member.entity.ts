import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A user's role on a project or on a namespace (inherited by everything below it). */
@Entity('members')
export class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'int' }) user_id!: number;
  @Column({ type: 'varchar' }) source_type!: 'project' | 'namespace';
  @Column({ type: 'int' }) source_id!: number;
  @Column({ type: 'smallint' }) access_level!: number;
  @Column({ type: 'date', nullable: true }) expires_at!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
