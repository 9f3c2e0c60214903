import type { Principal } from '../auth/principal';
import type { Namespace } from './namespace.entity';
import type { Project } from './project.entity';

/** A project with the namespace it lives in (whose traversal_ids give its ancestry). */
export interface ProjectContext {
  project: Project;
  namespace: Namespace;
  /**
   * Who acts on the project in this request, set by the package access guard on its own copy
   * (the cached context is shared): what package protection rules compare.
   */
  caller?: PackageCaller;
}

/** The caller of a package request: its principal and member level on the project (0 for deploy tokens). */
export interface PackageCaller {
  principal: Principal;
  accessLevel: number;
}

/** A copy of `ctx` acting as `caller` (never change the shared one). */
export function withCaller(ctx: ProjectContext, caller: PackageCaller): ProjectContext {
  return { project: ctx.project, namespace: ctx.namespace, caller };
}
