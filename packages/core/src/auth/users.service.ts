import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { ProjectsService } from '../projects/projects.service';
import { AccessLevel } from './access-level';
import { Member } from './member.entity';
import { User } from './user.entity';

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly projects: ProjectsService,
  ) {}

  findById(id: number): Promise<User | null> {
    return this.ds.getRepository(User).findOneBy({ id });
  }

  async findByUsername(username: string): Promise<User | null> {
    return this.ds.getRepository(User).createQueryBuilder('u').where('lower(u.username) = lower(:username)', { username }).getOne();
  }

  /** A user with a personal namespace named after them, which they own. */
  async create(input: { username: string; name: string; email?: string | null; is_admin?: boolean }): Promise<User> {
    return this.ds.transaction(async (m) => {
      const namespace = await this.projects.createNamespace(
        { kind: 'user', name: input.name, path: input.username, visibility: 'public' },
        m,
      );
      const repo = m.getRepository(User);
      const user = await repo.save(
        repo.create({
          username: input.username,
          name: input.name,
          email: input.email ?? null,
          is_admin: input.is_admin ?? false,
          state: 'active',
          namespace_id: namespace.id,
        }),
      );
      await m.getRepository(Member).save({
        user_id: user.id,
        source_type: 'namespace',
        source_id: namespace.id,
        access_level: AccessLevel.OWNER,
        expires_at: null,
      });
      return user;
    });
  }
}
