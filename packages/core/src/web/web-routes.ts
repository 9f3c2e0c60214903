/** A GitLab path segment (user, group or project path). */
const SEGMENT = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const FULL_PATH = `${SEGMENT}(?:/${SEGMENT})*`;

/** What a browser path names: a page of the UI (and what it shows), a file download, or nothing. */
export type WebRoute =
  | { kind: 'page' }
  | { kind: 'project'; projectPath: string; packageId?: number }
  | { kind: 'group'; groupPath: string }
  | { kind: 'file'; projectPath: string; fileId: number };

const PAGES = new Set(['/', '/-/sign_in', '/-/search', '/-/user_settings/personal_access_tokens', '/admin']);
const GROUP = new RegExp(`^/groups/(${FULL_PATH})/-/packages/?$`);
const PROJECT = new RegExp(`^/(${FULL_PATH})/-/(?:packages/?|packages/(\\d{1,9})|settings/packages)$`);
const FILE = new RegExp(`^/(${FULL_PATH})/-/package_files/(\\d{1,9})/download$`);

/** The UI's paths are GitLab's, so `_links.web_path` and GitLab habits lead to the right page. */
export function webRoute(path: string): WebRoute | null {
  if (PAGES.has(path)) return { kind: 'page' };
  let m = GROUP.exec(path);
  if (m) return { kind: 'group', groupPath: m[1] };
  m = FILE.exec(path);
  if (m) return { kind: 'file', projectPath: m[1], fileId: Number(m[2]) };
  m = PROJECT.exec(path);
  if (m && !m[1].startsWith('groups/') && !m[1].startsWith('api/')) {
    return { kind: 'project', projectPath: m[1], ...(m[2] ? { packageId: Number(m[2]) } : {}) };
  }
  return null;
}
