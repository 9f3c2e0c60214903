import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, FindOptionsWhere, SelectQueryBuilder } from 'typeorm';

import type { Page } from '../http/pagination';
import { Token, type TokenKind } from './token.entity';
import { digestTokenSecret, generateTokenSecret } from './token-secret';

export interface NewToken {
  kind: TokenKind;
  name: string;
  scopes: string[];
  userId?: number | null;
  projectId?: number | null;
  namespaceId?: number | null;
  username?: string | null;
  expiresAt?: Date | null;
  description?: string | null;
  /** The token this one is derived from: revoking or expiring that one ends this one too. */
  parentId?: number | null;
  /** With parentId: how many of the parent's derived tokens of this kind may live; the oldest beyond it are removed. */
  keepDerived?: number;
}

@Injectable()
export class TokensService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** One page of the tokens matching `where`, oldest first, and how many match. */
  page(where: FindOptionsWhere<Token>, page: Page): Promise<[Token[], number]> {
    return this.ds.getRepository(Token).findAndCount({ where, order: { id: 'ASC' }, skip: page.offset, take: page.perPage });
  }

  /** One page of the tokens `build` selects from tokens `t` (it sets the order too), and how many match. */
  pageQuery(build: (qb: SelectQueryBuilder<Token>) => void, page: Page): Promise<[Token[], number]> {
    const qb = this.ds.getRepository(Token).createQueryBuilder('t');
    build(qb);
    return qb.skip(page.offset).take(page.perPage).getManyAndCount();
  }

  /**
   * Rotates a token: revokes it and makes a new one with its name, scopes, owner and binding,
   * in one transaction. The old secret stops working on every server at once (the tokens
   * table moves the access epoch), and with it whatever was derived from it (web sessions,
   * Conan logins). Null when the token was revoked already (a second rotation of one token).
   */
  async rotate(token: Token, expiresAt: Date | null): Promise<{ token: Token; secret: string } | null> {
    return this.ds.transaction(async (m) => {
      const [row]: Pick<Token, 'revoked_at'>[] = await m.query('SELECT revoked_at FROM tokens WHERE id = $1 FOR UPDATE', [token.id]);
      if (!row || row.revoked_at) return null;
      await m.query('UPDATE tokens SET revoked_at = now() WHERE id = $1', [token.id]);
      const secret = generateTokenSecret(token.kind);
      const repo = m.getRepository(Token);
      const fresh = await repo.save(
        repo.create({
          kind: token.kind,
          name: token.name,
          digest: digestTokenSecret(secret),
          scopes: token.scopes,
          user_id: token.user_id,
          project_id: token.project_id,
          namespace_id: token.namespace_id,
          username: token.username,
          parent_id: null,
          description: token.description,
          expires_at: expiresAt,
          revoked_at: null,
          last_used_at: null,
        }),
      );
      return { token: fresh, secret };
    });
  }

  /** Creates a token; the secret is returned here and never again. */
  async create(input: NewToken, manager: EntityManager = this.ds.manager): Promise<{ token: Token; secret: string }> {
    const secret = generateTokenSecret(input.kind);
    const repo = manager.getRepository(Token);
    // Derived tokens are made per login: drop the parent's expired ones as new ones come.
    if (input.parentId) await this.ds.query('DELETE FROM tokens WHERE parent_id = $1 AND expires_at <= now()', [input.parentId]);
    const token = await repo.save(
      repo.create({
        kind: input.kind,
        name: input.name,
        digest: digestTokenSecret(secret),
        scopes: input.scopes,
        user_id: input.userId ?? null,
        project_id: input.projectId ?? null,
        namespace_id: input.namespaceId ?? null,
        username: input.username ?? null,
        parent_id: input.parentId ?? null,
        description: input.description ?? null,
        expires_at: input.expiresAt ?? null,
        revoked_at: null,
        last_used_at: null,
      }),
    );
    if (input.parentId && input.keepDerived !== undefined) {
      await this.ds.query(
        `DELETE FROM tokens WHERE parent_id = $1 AND kind = $3 AND id NOT IN
           (SELECT id FROM tokens WHERE parent_id = $1 AND kind = $3 ORDER BY id DESC LIMIT $2)`,
        [input.parentId, input.keepDerived, input.kind],
      );
    }
    return { token, secret };
  }

  /**
   * Makes `secret` (STOWAGE_ROOT_TOKEN) an `api` token of `userId` and revokes every token an
   * earlier value of the variable made, so changing it and restarting retires the old secret.
   * A value that returns after a change is made valid again. Tokens the user made through the
   * API are not touched. Idempotent, so processes starting at once with one value agree.
   */
  async syncRootEnvToken(userId: number, secret: string): Promise<void> {
    const digest = digestTokenSecret(secret);
    await this.ds.transaction(async (em) => {
      await em.query(
        `INSERT INTO tokens (kind, name, digest, scopes, user_id, from_root_token_env)
         VALUES ('personal', 'STOWAGE_ROOT_TOKEN', $1, '{api}', $2, true) ON CONFLICT (digest) DO NOTHING`,
        [digest, userId],
      );
      const [row]: Pick<Token, 'kind' | 'user_id' | 'from_root_token_env'>[] = await em.query(
        'SELECT kind, user_id, from_root_token_env FROM tokens WHERE digest = $1',
        [digest],
      );
      if (row.kind !== 'personal' || row.user_id !== userId) throw new Error('STOWAGE_ROOT_TOKEN is already in use by another token');
      if (row.from_root_token_env)
        await em.query('UPDATE tokens SET revoked_at = NULL WHERE digest = $1 AND revoked_at IS NOT NULL', [digest]);
      await em.query(
        'UPDATE tokens SET revoked_at = now() WHERE from_root_token_env AND user_id = $1 AND digest <> $2 AND revoked_at IS NULL',
        [userId, digest],
      );
    });
  }

  findById(id: number): Promise<Token | null> {
    return this.ds.getRepository(Token).findOneBy({ id });
  }

  findBySecret(secret: string): Promise<Token | null> {
    return this.ds.getRepository(Token).findOneBy({ digest: digestTokenSecret(secret) });
  }

  /** Revokes a token (a no-op on a revoked one); with `manager`, inside the caller's transaction. */
  async revoke(token: Token, manager: EntityManager = this.ds.manager): Promise<void> {
    await manager.query('UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [token.id]);
  }

  async update(token: Token, patch: Partial<Pick<Token, 'username'>>): Promise<void> {
    await this.ds.getRepository(Token).update({ id: token.id }, patch);
  }
}
