import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { auditEvents } from '../audit/audit-events';
import { AuditLog, entityOf } from '../audit/audit-log';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import type { User } from '../auth/user.entity';
import { UsersService } from '../auth/users.service';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { HttpError, httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { pathProblem } from '../projects/paths';
import { ProjectsService } from '../projects/projects.service';
import { GroupStore } from './group-store';
import { userJson } from './representations';
import { UserStore } from './user-store';

/** GitLab's user listing and an admin's user management (create, show and tokens: UsersController). */
@Controller('api/v4/users')
export class UsersAdminController {
  constructor(
    private readonly users: UsersService,
    private readonly store: UserStore,
    private readonly groups: GroupStore,
    private readonly projects: ProjectsService,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  private async target(id: string): Promise<User> {
    // GitLab's `id` is an Integer parameter: anything else is a 400, a number no user has a 404.
    if (!/^\d+$/.test(id)) throw httpErrors.invalidParam('id');
    const user = /^\d{1,9}$/.test(id) ? await this.users.findById(Number(id)) : null;
    if (!user) throw httpErrors.notFound('User');
    return user;
  }

  /**
   * Anyone signed in lists users (admins with their admin fields and admin-only filters);
   * an anonymous caller only looks one up by `username`, as GitLab.
   */
  @Get()
  @ApiAccess({ anonymous: true })
  async list(
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const p = new ApiParams(query, {});
    const admin = principalUser(principal)?.is_admin ?? false;
    const username = p.string('username', { max: 255 });
    if (!principalUser(principal) && !username) throw httpErrors.forbidden('Not authorized to access /api/v4/users');
    const active = p.boolean('active');
    const blocked = p.boolean('blocked');
    // GitLab drops the ordering and date filters of a non-admin's call; they are still checked.
    const orderBy = p.oneOf('order_by', ['id', 'name', 'username', 'created_at', 'updated_at'] as const);
    const sort = p.oneOf('sort', ['asc', 'desc'] as const);
    const createdAfter = p.date('created_after');
    const createdBefore = p.date('created_before');
    const admins = p.boolean('admins');
    const page = pageParams(query);
    const [users, total] = await this.store.page(
      {
        username,
        search: p.string('search', { max: 255 }),
        searchEmail: admin,
        state: blocked ? 'blocked' : active ? 'active' : undefined,
        admins: admin && admins,
        withoutBots: p.boolean('without_project_bots') ?? false,
        createdAfter: admin ? createdAfter : undefined,
        createdBefore: admin ? createdBefore : undefined,
        orderBy: (admin && orderBy) || 'id',
        sort: ((admin && sort) || 'desc') === 'asc' ? 'ASC' : 'DESC',
      },
      page,
    );
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return users.map((u) => userJson(u, this.baseUrl, { admin }));
  }

  @Put(':id')
  @ApiAccess({ write: true, admin: true })
  async update(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown) {
    const user = await this.target(id);
    const p = new ApiParams(query, body);
    const patch = {
      name: p.string('name', { max: 255 }),
      username: p.string('username', { max: 255 }),
      email: p.string('email', { max: 255 }),
      is_admin: p.boolean('admin'),
    };
    if (patch.username !== undefined) {
      const problem = pathProblem(patch.username);
      if (problem) throw httpErrors.validation({ username: [problem] });
    }
    if (patch.email !== undefined && (await this.store.emailTaken(patch.email, user.id))) {
      throw new HttpError(409, { message: 'Email has already been taken' });
    }
    const renamed = patch.username !== undefined && patch.username !== user.username;
    if (renamed) {
      const other = await this.users.findByUsername(patch.username!);
      if (other && other.id !== user.id) throw new HttpError(409, { message: 'Username has already been taken' });
      const namespace = await this.projects.findNamespace(user.namespace_id);
      if (namespace) {
        if (await this.groups.holdsPackages(namespace.id)) {
          throw httpErrors.validation({ username: ['cannot be changed while projects in the user’s namespace hold packages'] });
        }
        // The personal namespace follows the username, as GitLab's does.
        if (!(await this.groups.update(namespace, { path: patch.username }))) {
          throw new HttpError(409, { message: 'Username has already been taken' });
        }
      }
    }
    return userJson(await this.store.update(user, patch), this.baseUrl, { admin: true });
  }

  /** Blocks the user: every token of theirs is refused from the next request on, on every server (the users row moves AccessEpoch). */
  @Post(':id/block')
  @ApiAccess({ write: true, admin: true })
  async block(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const user = await this.target(id);
    if (principalUser(principal)?.id === user.id) throw httpErrors.forbidden('The API initiating user cannot be blocked by the API');
    if (user.state !== 'blocked') await this.store.update(user, { state: 'blocked' });
    return true;
  }

  @Post(':id/unblock')
  @ApiAccess({ write: true, admin: true })
  async unblock(@Param('id') id: string) {
    const user = await this.target(id);
    if (user.state !== 'active') await this.store.update(user, { state: 'active' });
    return true;
  }

  /**
   * Deletes the user with its tokens and memberships; its personal projects (and, with
   * `hard_delete`, the groups it alone owns) are removed like DELETE /projects/:id. Without
   * `hard_delete` a sole Owner of a group is refused (409), as GitLab.
   */
  @Delete(':id')
  @ApiAccess({ write: true, admin: true })
  @HttpCode(204)
  async remove(@Param('id') id: string, @Query() query: unknown, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const hardDelete = new ApiParams(query, body).boolean('hard_delete') ?? false;
    const user = await this.target(id);
    if (principalUser(principal)?.id === user.id) throw httpErrors.forbidden('The API initiating user cannot be deleted by the API');
    const solo = await this.store.soloOwnedGroups(user.id);
    if (solo.length && !hardDelete) throw new HttpError(409, { message: 'User cannot be removed while is the sole-owner of a group' });
    await this.store.delete(user, solo);
    await this.audit.record(auditEvents.destroyed(entityOf.user(user)));
  }
}
