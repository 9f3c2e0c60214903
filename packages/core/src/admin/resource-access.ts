import { Injectable } from '@nestjs/common';

import { AccessService } from '../auth/access.service';
import { AccessLevel } from '../auth/access-level';
import { type Principal, principalUser } from '../auth/principal';
import { httpErrors } from '../http/http-error';
import type { Namespace } from '../projects/namespace.entity';
import type { ProjectContext } from '../projects/project-context';
import { ProjectsService } from '../projects/projects.service';

/** Role checks for the admin surface: 404 when the resource is not visible, 403 when the role is short. */
@Injectable()
export class ResourceAccess {
  constructor(
    private readonly access: AccessService,
    private readonly projects: ProjectsService,
  ) {}

  async project(principal: Principal, idOrPath: string, minLevel: number = AccessLevel.NONE): Promise<ProjectContext & { level: number }> {
    const ctx = await this.projects.findProject(idOrPath);
    if (!ctx) throw httpErrors.notFound('Project');
    const perms = await this.access.projectPermissions(principal, ctx);
    if (!perms.visible) throw httpErrors.notFound('Project');
    if (perms.accessLevel < minLevel) throw httpErrors.forbidden();
    return { ...ctx, level: perms.accessLevel };
  }

  async group(principal: Principal, idOrPath: string, minLevel: number = AccessLevel.NONE): Promise<Namespace & { level: number }> {
    const group = await this.projects.findGroup(idOrPath);
    if (!group || !(await this.access.groupVisible(principal, group))) throw httpErrors.notFound('Group');
    const level = await this.namespaceLevel(principal, group);
    if (level < minLevel) throw httpErrors.forbidden();
    // A copy: the group row is shared with other requests (ProjectsService caches it).
    return { ...group, level };
  }

  async namespaceLevel(principal: Principal, namespace: Namespace): Promise<number> {
    const user = principalUser(principal);
    if (!user) return AccessLevel.NONE;
    if (user.is_admin) return AccessLevel.OWNER;
    return this.access.namespaceMemberLevel(user.id, namespace);
  }
}
