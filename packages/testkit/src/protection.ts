import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import type { TestApi, TestUser } from './test-api';

const run = promisify(execFile);

/** Users with these member levels on a project (`{ developer: 30, maintainer: 40 }`), by role. */
export async function projectMembers<R extends string>(
  api: TestApi,
  projectId: number,
  levels: Record<R, number>,
): Promise<Record<R, TestUser>> {
  const users = {} as Record<R, TestUser>;
  for (const [role, level] of Object.entries(levels) as [R, number][]) {
    users[role] = await api.createUser(role);
    await api.addMember({ project: projectId }, users[role].id, level);
  }
  return users;
}

/** Creates a package protection rule through GitLab's API, as root. */
export function protectPackages(api: TestApi, projectId: number, rule: Record<string, string>): Promise<{ id: number }> {
  return api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, rule);
}

/**
 * curl as the READMEs show it (`--fail-with-body`): what a user sees, body and curl's own
 * error line, and the exit code. Never throws on a failed request.
 */
export async function curl(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--fail-with-body', ...args], { timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
