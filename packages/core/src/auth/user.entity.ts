import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('users')
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) username!: string;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'varchar', nullable: true }) email!: string | null;
  @Column({ type: 'boolean' }) is_admin!: boolean;
  @Column({ type: 'varchar' }) state!: 'active' | 'blocked';
  /** A project or group access token's user (GitLab's `project_bot`): not a person, not a seat. */
  @Column({ type: 'boolean', default: false }) bot!: boolean;
  /** The user's personal namespace. */
  @Column({ type: 'int' }) namespace_id!: number;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated_at!: Date;
}
