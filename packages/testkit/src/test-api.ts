import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface InjectResult {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  rawPayload: Buffer;
  json<T = any>(): T;
}

export interface InjectOptions {
  method?: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer | object | NodeJS.ReadableStream;
  /** Shorthand for a PRIVATE-TOKEN header. */
  token?: string;
}

export interface TestUser {
  id: number;
  username: string;
  /** An `api`-scoped personal access token. */
  token: string;
}

export interface TestProject {
  id: number;
  path_with_namespace: string;
  namespace: { id: number };
}

/** Calls into the app in process, plus GitLab REST shortcuts used to set tests up (as root). */
export interface GuestListingAudience {
  group: { id: number; full_path: string };
  project: TestProject;
  guest: TestUser;
  groupGuest: TestUser;
  reporter: TestUser;
}

export class TestApi {
  constructor(
    private readonly app: NestFastifyApplication,
    readonly rootToken: string,
  ) {}

  async inject(opts: InjectOptions): Promise<InjectResult> {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.token) headers['private-token'] = opts.token;
    const res = await this.app.inject({
      method: opts.method ?? 'GET',
      url: opts.url,
      headers,
      payload: opts.payload as never,
    });
    return {
      status: res.statusCode,
      headers: res.headers as InjectResult['headers'],
      body: res.body,
      rawPayload: res.rawPayload,
      json: <T>() => JSON.parse(res.body) as T,
    };
  }

  /** An admin call that must succeed; returns its JSON. */
  async root<T = any>(method: InjectOptions['method'], url: string, payload?: object): Promise<T> {
    const res = await this.inject({ method, url, payload, token: this.rootToken });
    if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${res.body}`);
    return res.status === 204 ? (undefined as T) : res.json<T>();
  }

  async createUser(username: string, opts: { admin?: boolean; scopes?: string[] } = {}): Promise<TestUser> {
    const user = await this.root<{ id: number }>('POST', '/api/v4/users', { username, name: username, admin: opts.admin ?? false });
    const token = await this.createToken(user.id, opts.scopes ?? ['api']);
    return { id: user.id, username, token };
  }

  async createToken(userId: number, scopes: string[], expiresAt?: string): Promise<string> {
    const t = await this.root<{ token: string }>('POST', `/api/v4/users/${userId}/personal_access_tokens`, {
      name: `t-${scopes.join('-')}`,
      scopes,
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    });
    return t.token;
  }

  async createGroup(path: string, opts: { visibility?: string; parentId?: number } = {}): Promise<{ id: number; full_path: string }> {
    return this.root('POST', '/api/v4/groups', {
      name: path,
      path,
      visibility: opts.visibility ?? 'private',
      ...(opts.parentId ? { parent_id: opts.parentId } : {}),
    });
  }

  async createProject(path: string, opts: { visibility?: string; namespaceId?: number } = {}): Promise<TestProject> {
    return this.root('POST', '/api/v4/projects', {
      name: path,
      path,
      visibility: opts.visibility ?? 'private',
      ...(opts.namespaceId ? { namespace_id: opts.namespaceId } : {}),
    });
  }

  async addMember(target: { project: number } | { group: number }, userId: number, accessLevel: number): Promise<void> {
    const url = 'project' in target ? `/api/v4/projects/${target.project}/members` : `/api/v4/groups/${target.group}/members`;
    await this.root('POST', url, { user_id: userId, access_level: accessLevel });
  }

  /**
   * Who the Guest listing rule is about: a public group `team` holding the private project
   * `projectPath`, a Guest of that project, a Guest of the group (inherited onto it) and a
   * Reporter of the project (who may list what the Guests may only fetch).
   */
  async guestListingAudience(projectPath: string): Promise<GuestListingAudience> {
    const group = await this.createGroup('team', { visibility: 'public' });
    const project = await this.createProject(projectPath, { namespaceId: group.id });
    const [guest, groupGuest, reporter] = await Promise.all([
      this.createUser('guest'),
      this.createUser('group-guest'),
      this.createUser('reporter'),
    ]);
    await this.addMember({ project: project.id }, guest.id, 10);
    await this.addMember({ group: group.id }, groupGuest.id, 10);
    await this.addMember({ project: project.id }, reporter.id, 20);
    return { group, project, guest, groupGuest, reporter };
  }

  async createDeployToken(
    target: { project: number } | { group: number },
    scopes: string[],
  ): Promise<{ id: number; token: string; username: string }> {
    const url = 'project' in target ? `/api/v4/projects/${target.project}/deploy_tokens` : `/api/v4/groups/${target.group}/deploy_tokens`;
    return this.root('POST', url, { name: 'deploy', scopes });
  }

  async setPackageSettings(target: { project: number } | { group: number }, settings: Record<string, unknown>): Promise<void> {
    const url =
      'project' in target ? `/api/v4/projects/${target.project}/package_settings` : `/api/v4/groups/${target.group}/package_settings`;
    await this.root('PUT', url, settings);
  }
}
