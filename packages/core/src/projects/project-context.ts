import type { Namespace } from './namespace.entity';
import type { Project } from './project.entity';

/** A project with the namespace it lives in (whose traversal_ids give its ancestry). */
export interface ProjectContext {
  project: Project;
  namespace: Namespace;
}
