import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What an audit event is about, as GitLab names it. */
export type AuditEntityType = 'User' | 'Group' | 'Project';

/**
 * One audit event (GitLab's `audit_events`): who (`author_id`; -1 nobody signed in or a
 * background job, -2 a deploy token, as GitLab), on what (`entity_type`/`entity_id`), what
 * (`event_name`), and everything else, from where included, in `details`. No foreign keys:
 * events outlive what they are about.
 */
@Entity('audit_events')
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'int' }) author_id!: number;
  @Column({ type: 'varchar' }) entity_type!: AuditEntityType;
  @Column({ type: 'int' }) entity_id!: number;
  @Column({ type: 'varchar' }) event_name!: string;
  @Column({ type: 'jsonb' }) details!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
}
