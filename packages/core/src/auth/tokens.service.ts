import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, FindOptionsWhere } from 'typeorm';

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

  /** Creates a token; the secret is returned here and never again. */
  async create(input: NewToken): Promise<{ token: Token; secret: string }> {
    const secret = generateTokenSecret(input.kind);
    const repo = this.ds.getRepository(Token);
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

  async revoke(token: Token): Promise<void> {
    await this.ds.query('UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [token.id]);
  }

  async update(token: Token, patch: Partial<Pick<Token, 'username'>>): Promise<void> {
    await this.ds.getRepository(Token).update({ id: token.id }, patch);
  }
}
