import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { Member } from './member.entity';

export type MemberSource = { type: 'project' | 'namespace'; id: number };

@Injectable()
export class MembersService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  find(source: MemberSource, userId: number): Promise<Member | null> {
    return this.ds.getRepository(Member).findOneBy({ source_type: source.type, source_id: source.id, user_id: userId });
  }

  /** Returns null when the user is a member already. */
  async add(source: MemberSource, userId: number, accessLevel: number, expiresAt: string | null): Promise<Member | null> {
    const rows: Member[] = await this.ds.query(
      `INSERT INTO members (user_id, source_type, source_id, access_level, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (source_type, source_id, user_id) DO NOTHING RETURNING *`,
      [userId, source.type, source.id, accessLevel, expiresAt],
    );
    return rows[0] ?? null;
  }
}
