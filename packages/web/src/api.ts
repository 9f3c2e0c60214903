// Everything the UI knows comes through the same-origin API. The browser sends the session
// cookie by itself; the CSRF token lives only in this module's memory (never in storage or a URL)
// and goes with every request that is not a GET.

export interface User {
  id: number;
  username: string;
  name: string;
  is_admin: boolean;
}

export interface Session {
  user: User | null;
  csrfToken: string | null;
  /** False until the first GET /-/session answered. */
  loaded: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
  status: number;
}

let session: Session = { user: null, csrfToken: null, loaded: false };
const listeners = new Set<() => void>();

export function currentSession(): Session {
  return session;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(next: Session) {
  session = next;
  for (const l of listeners) l();
}

/** The text an error answer carries: GitLab's `message` (a string or a field → problems map) or `error`. */
export function errorText(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown; error_description?: unknown };
    for (const v of [b.message, b.error_description, b.error]) {
      if (typeof v === 'string' && v) return v;
      if (v && typeof v === 'object') {
        return Object.entries(v as Record<string, unknown>)
          .map(([k, problems]) => `${k} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
          .join('; ');
      }
    }
  }
  return fallback;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrfToken) headers['X-CSRF-Token'] = session.csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server could not be reached');
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, errorText(json, `${res.status} ${res.statusText || 'Error'}`));
  return { data: json as T, headers: res.headers, status: res.status };
}

export const get = async <T>(path: string): Promise<T> => (await api<T>('GET', path)).data;

/** Every page of a list (following X-Next-Page), up to `maxPages` of them. */
export async function getAll<T>(path: string, maxPages = 20): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1, n = 0; page && n < maxPages; n++) {
    const res = await api<T[]>('GET', `${path}${path.includes('?') ? '&' : '?'}page=${page}`);
    all.push(...res.data);
    page = Number(res.headers.get('x-next-page') || 0);
  }
  return all;
}

/** A project or group path (`group/sub/project`) as GitLab's API takes it in a URL. */
export const enc = (fullPath: string) => encodeURIComponent(fullPath);

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface SessionAnswer {
  user: User | null;
  csrf_token: string | null;
}

export async function loadSession(): Promise<void> {
  try {
    const { data } = await api<SessionAnswer>('GET', '/-/session');
    setSession({ user: data.user, csrfToken: data.csrf_token, loaded: true });
  } catch {
    setSession({ user: null, csrfToken: null, loaded: true });
  }
}

export async function signIn(token: string): Promise<User> {
  const { data } = await api<SessionAnswer>('POST', '/-/session', { token });
  setSession({ user: data.user, csrfToken: data.csrf_token, loaded: true });
  return data.user!;
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/-/session');
  } finally {
    setSession({ user: null, csrfToken: null, loaded: true });
  }
}

// ---- GitLab's shapes, the fields the UI reads

export const MAINTAINER = 40;

export interface Project {
  id: number;
  name: string;
  path_with_namespace: string;
  description: string | null;
  visibility: string;
  web_url: string;
  last_activity_at: string;
  permissions?: {
    project_access: { access_level: number } | null;
    group_access: { access_level: number } | null;
  };
}

export interface Group {
  id: number;
  name: string;
  full_path: string;
  full_name: string;
  description: string | null;
  visibility: string;
}

export interface PackageRow {
  id: number;
  name: string;
  version: string | null;
  package_type: string;
  status: string;
  created_at: string;
  _links: { web_path: string };
  tags: { name: string }[];
  project_id?: number;
  project_path?: string;
}

export interface PackageFileRow {
  id: number;
  file_name: string;
  size: number;
  file_sha256: string | null;
  file_md5: string | null;
  file_sha1: string | null;
  created_at: string;
}

export interface PackageOverview {
  metadata: { label: string; value: string }[];
  dependencies: { name: string; requirement: string; kind: string }[];
  readme: string | null;
  instructions: { title: string; language: string; code: string }[];
}

/** The viewer's level on a project: the higher of its own membership and its groups'. */
export function accessLevel(project: Project): number {
  const p = project.permissions;
  return Math.max(p?.project_access?.access_level ?? 0, p?.group_access?.access_level ?? 0);
}

export function mayMaintain(project: Project, user: User | null): boolean {
  return !!user && (user.is_admin || accessLevel(project) >= MAINTAINER);
}

/** X-Total / X-Total-Pages of a paginated answer. */
export function pageCounts(headers: Headers): { total: number; totalPages: number } {
  const total = Number(headers.get('X-Total') ?? '0') || 0;
  const totalPages = Number(headers.get('X-Total-Pages') ?? '0') || 0;
  return { total, totalPages: Math.max(totalPages, 1) };
}

export const PACKAGE_TYPES = ['generic', 'npm', 'pypi', 'maven', 'nuget', 'conan', 'composer', 'golang'];
