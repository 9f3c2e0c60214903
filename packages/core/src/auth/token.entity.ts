import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** `session`: a web UI sign-in, derived from the personal access token it was made with; only ever sent as the session cookie. */
export type TokenKind = 'personal' | 'deploy' | 'job' | 'session';

/**
 * Every kind of secret a client presents. Only the sha256 digest of the secret is stored;
 * the secret itself is shown once, when the token is created.
 */
@Entity('tokens')
export class Token {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) kind!: TokenKind;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'char', length: 64 }) digest!: string;
  @Column({ type: 'text', array: true }) scopes!: string[];
  /** personal and job tokens: whose permissions the token carries. */
  @Column({ type: 'int', nullable: true }) user_id!: number | null;
  /** deploy and job tokens: the project the token is bound to. */
  @Column({ type: 'int', nullable: true }) project_id!: number | null;
  /** group deploy tokens: the group the token is bound to. */
  @Column({ type: 'int', nullable: true }) namespace_id!: number | null;
  /** deploy tokens: the username clients may send with it. */
  @Column({ type: 'varchar', nullable: true }) username!: string | null;
  /** What the token is for, as its creator wrote it (GitLab's `description`). */
  @Column({ type: 'text', nullable: true }) description!: string | null;
  /** A token derived from another (a Conan login) is valid only while that one is. */
  @Column({ type: 'int', nullable: true }) parent_id!: number | null;
  /** Made by RootBootstrap from STOWAGE_ROOT_TOKEN: revoked when a start brings another value. */
  @Column({ type: 'boolean', default: false }) from_root_token_env!: boolean;
  @Column({ type: 'timestamptz', nullable: true }) expires_at!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) revoked_at!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) last_used_at!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) created_at!: Date;
}
