import type { Namespace } from '../projects/namespace.entity';
import type { Visibility } from '../projects/visibility';

// GitLab's rules: nothing is more visible than the group it is in (a user's namespace is
// public, so its projects may be anything). Messages are GitLab's model errors, word for word.

const RANK: Record<Visibility, number> = { private: 0, internal: 1, public: 2 };

/** Why a project of this visibility may not be in `namespace`, or null. */
export function projectVisibilityProblem(visibility: Visibility, namespace: Pick<Namespace, 'kind' | 'visibility'>): string | null {
  if (namespace.kind !== 'group' || RANK[visibility] <= RANK[namespace.visibility]) return null;
  return `${visibility} is not allowed in a ${namespace.visibility} group.`;
}

/** Why a group of this visibility may not be under `parent`, or null. */
export function subgroupVisibilityProblem(visibility: Visibility, parent: Pick<Namespace, 'visibility'> | null): string | null {
  if (!parent || RANK[visibility] <= RANK[parent.visibility]) return null;
  return `${visibility} is not allowed since the parent group has a ${parent.visibility} visibility.`;
}

/**
 * Why a group may not take this visibility given what it holds (its projects' and direct
 * subgroups' most visible settings, null when it holds none), or null.
 */
export function groupContentsVisibilityProblem(
  visibility: Visibility,
  contents: { projects: Visibility | null; subgroups: Visibility | null },
): string | null {
  if (contents.projects && RANK[contents.projects] > RANK[visibility]) {
    return `${visibility} is not allowed since this group contains projects with higher visibility.`;
  }
  if (contents.subgroups && RANK[contents.subgroups] > RANK[visibility]) {
    return `${visibility} is not allowed since there are sub-groups with higher visibility.`;
  }
  return null;
}

/** The most visible of these settings, or null for none. */
export function mostVisible(visibilities: Visibility[]): Visibility | null {
  return visibilities.reduce<Visibility | null>((a, v) => (a === null || RANK[v] > RANK[a] ? v : a), null);
}
