import { type InjectResult, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, auditEvents, AuditLog } from '../src';
import { createLogger } from '../src/http/logger';
import { genericFormat, genericPath } from './generic-fixture';

// The audit log (issue 19, item 8): each change made through the API is an event, stored and
// logged, with who made it (user, token), from where (address, request id, user agent) and on
// what; GitLab's audit events API lists them: every event to an admin, a project's to its
// Maintainers, a group's to its Owners.

interface AuditEventJson {
  id: number;
  author_id: number;
  entity_id: number;
  entity_type: string;
  event_name: string;
  details: Record<string, unknown>;
  created_at: string;
}

describe.each(testModes())('audit log (%s)', (mode) => {
  let s: TestServer;
  const log: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void log.push(line) });
  let alice: TestUser; // Owner of group "team"
  let bob: TestUser; // Maintainer of team/app
  let dan: TestUser; // Developer of team/app
  let eve: TestUser; // member of nothing, then a Reporter of "team"
  let zed: TestUser; // member of nothing
  let team: { id: number; full_path: string };
  let app: TestProject;
  let other: TestProject;
  let requestNo = 0;

  /** A call from `ip` with its own request id and user agent, which the event must name. */
  async function call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    token: string | null,
    opts: { payload?: object | Buffer; ip?: string } = {},
  ): Promise<InjectResult & { requestId: string; ip: string }> {
    const requestId = `audit-test-${++requestNo}`;
    const ip = opts.ip ?? `203.0.113.${requestNo % 250}`;
    const headers: Record<string, string> = { 'x-request-id': requestId, 'user-agent': `audit-spec/${requestNo}` };
    if (token) headers['private-token'] = token;
    const res = await s.app.inject({ method, url, headers, payload: opts.payload as never, remoteAddress: ip });
    return {
      status: res.statusCode,
      headers: res.headers as InjectResult['headers'],
      body: res.body,
      rawPayload: res.rawPayload,
      json: () => JSON.parse(res.body),
      requestId,
      ip,
    };
  }

  /** The one event the request made, read back through the admin API. */
  async function eventOf(res: { requestId: string }, eventName: string): Promise<AuditEventJson> {
    const all = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100');
    const found = all.filter((e) => e.details.request_id === res.requestId && e.event_name === eventName);
    expect(found).toHaveLength(1);
    return found[0];
  }

  /** The log lines of the audit events the request made. */
  const auditLines = (requestId: string) =>
    log
      .map((l) => JSON.parse(l) as { context?: string; audit?: { details: Record<string, unknown> }; msg?: string })
      .filter((l) => l.context === 'audit' && l.audit?.details.request_id === requestId);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, formats: [genericFormat], logger });
    [alice, bob, dan, eve, zed] = await Promise.all(['alice', 'bob', 'dan', 'eve', 'zed'].map((u) => s.api.createUser(u)));
    const group = await call('POST', '/api/v4/groups', alice.token, { payload: { name: 'team', path: 'team' } });
    team = group.json();
    app = (await call('POST', '/api/v4/projects', alice.token, { payload: { name: 'app', namespace_id: team.id } })).json();
    other = await s.api.createProject('other');
    await s.api.addMember({ project: app.id }, bob.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ project: app.id }, dan.id, AccessLevel.DEVELOPER);
  });
  afterAll(() => s?.close());

  describe('events', () => {
    it('a personal access token made for a user: by the admin, from the admin’s address, on the user', async () => {
      const res = await call('POST', `/api/v4/users/${eve.id}/personal_access_tokens`, s.rootToken, {
        payload: { name: 'ci', scopes: ['read_api'] },
      });
      expect(res.status).toBe(201);
      const token = res.json();
      const event = await eventOf(res, 'personal_access_token_created');
      expect(event).toMatchObject({ author_id: 1, entity_type: 'User', entity_id: eve.id });
      expect(event.details).toMatchObject({
        author_name: 'Administrator',
        author_username: 'root',
        authenticated_with: 'personal',
        target_type: 'PersonalAccessToken',
        target_id: token.id,
        target_details: 'ci',
        entity_path: 'eve',
        ip_address: res.ip,
        request_id: res.requestId,
        user_agent: `audit-spec/${requestNo}`,
        scopes: ['read_api'],
      });
      expect(typeof event.details.author_token_id).toBe('number');
      expect(JSON.stringify(event)).not.toContain(token.token);
    });

    it('a user’s own token created and revoked, by that user', async () => {
      const created = await call('POST', '/api/v4/user/personal_access_tokens', dan.token, { payload: { name: 'mine', scopes: ['api'] } });
      expect(created.status).toBe(201);
      expect(await eventOf(created, 'personal_access_token_created')).toMatchObject({
        author_id: dan.id,
        entity_type: 'User',
        entity_id: dan.id,
        details: { author_username: 'dan', target_details: 'mine' },
      });
      const revoked = await call('DELETE', `/api/v4/personal_access_tokens/${created.json().id}`, dan.token);
      expect(revoked.status).toBe(204);
      expect(await eventOf(revoked, 'personal_access_token_revoked')).toMatchObject({
        author_id: dan.id,
        entity_type: 'User',
        entity_id: dan.id,
        details: { target_id: created.json().id, entity_path: 'dan', ip_address: revoked.ip },
      });
    });

    it('deploy tokens created and revoked, on their project or group', async () => {
      const created = await call('POST', `/api/v4/projects/${app.id}/deploy_tokens`, bob.token, {
        payload: { name: 'deployer', scopes: ['read_package_registry'] },
      });
      expect(created.status).toBe(201);
      expect(await eventOf(created, 'deploy_token_created')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
        details: { target_type: 'DeployToken', target_details: 'deployer', entity_path: 'team/app' },
      });
      const revoked = await call('DELETE', `/api/v4/projects/${app.id}/deploy_tokens/${created.json().id}`, bob.token);
      expect(revoked.status).toBe(204);
      expect(await eventOf(revoked, 'deploy_token_revoked')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
      });

      const group = await call('POST', `/api/v4/groups/${team.id}/deploy_tokens`, alice.token, {
        payload: { name: 'group-deployer', scopes: ['read_package_registry'] },
      });
      expect(group.status).toBe(201);
      expect(await eventOf(group, 'deploy_token_created')).toMatchObject({
        author_id: alice.id,
        entity_type: 'Group',
        entity_id: team.id,
        details: { entity_path: 'team' },
      });
    });

    it('a member added, with the role given', async () => {
      const res = await call('POST', `/api/v4/groups/${team.id}/members`, alice.token, {
        payload: { user_id: eve.id, access_level: AccessLevel.REPORTER },
      });
      expect(res.status).toBe(201);
      expect(await eventOf(res, 'member_created')).toMatchObject({
        author_id: alice.id,
        entity_type: 'Group',
        entity_id: team.id,
        details: { add: 'user_access', as: 'Reporter', target_type: 'User', target_id: eve.id, target_details: 'eve' },
      });
    });

    it('a package setting changed: one event per setting, from and to', async () => {
      const res = await call('PUT', `/api/v4/projects/${app.id}/package_settings`, bob.token, {
        payload: { generic_duplicates_allowed: false, generic_duplicate_exception_regex: '.*-SNAPSHOT' },
      });
      expect(res.status).toBe(200);
      const all = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100');
      const changes = all.filter((e) => e.details.request_id === res.requestId);
      expect(changes.map((e) => [e.event_name, e.details.change, e.details.from, e.details.to]).sort()).toEqual([
        ['package_settings_updated', 'generic_duplicate_exception_regex', '""', '".*-SNAPSHOT"'],
        ['package_settings_updated', 'generic_duplicates_allowed', 'true', 'false'],
      ]);
      expect(changes[0]).toMatchObject({ author_id: bob.id, entity_type: 'Project', entity_id: app.id });
      // Setting what is already set changes nothing and records nothing.
      const again = await call('PUT', `/api/v4/projects/${app.id}/package_settings`, bob.token, {
        payload: { generic_duplicates_allowed: false },
      });
      expect(again.status).toBe(200);
      const after = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100');
      expect(after.filter((e) => e.details.request_id === again.requestId)).toEqual([]);
    });

    it('a package file and a package deleted through the Packages API, by whom and from where', async () => {
      for (const f of ['a.txt', 'b.txt']) {
        expect((await call('PUT', genericPath(app.id, `tool/2.0.0/${f}`), dan.token, { payload: Buffer.from(f) })).status).toBe(201);
      }
      const [pkg] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${app.id}/packages?package_name=tool`);
      const files = await s.api.root<{ id: number; file_name: string }[]>(
        'GET',
        `/api/v4/projects/${app.id}/packages/${pkg.id}/package_files`,
      );
      const fileRes = await call('DELETE', `/api/v4/projects/${app.id}/packages/${pkg.id}/package_files/${files[0].id}`, bob.token);
      expect(fileRes.status).toBe(204);
      expect(await eventOf(fileRes, 'package_file_deleted')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
        details: {
          author_username: 'bob',
          ip_address: fileRes.ip,
          entity_path: 'team/app',
          package_id: pkg.id,
          package_name: 'tool',
          package_version: '2.0.0',
          file_names: [files[0].file_name],
        },
      });
      const pkgRes = await call('DELETE', `/api/v4/projects/${app.id}/packages/${pkg.id}`, bob.token);
      expect(pkgRes.status).toBe(204);
      expect(await eventOf(pkgRes, 'package_deleted')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
        details: {
          target_type: 'Packages::Package',
          target_id: pkg.id,
          target_details: 'tool@2.0.0',
          package_type: 'generic',
          ip_address: pkgRes.ip,
          request_id: pkgRes.requestId,
          custom_message: 'Deleted generic package tool@2.0.0',
        },
      });
    });

    it('a refused change records nothing', async () => {
      const res = await call('POST', `/api/v4/projects/${app.id}/deploy_tokens`, dan.token, {
        payload: { name: 'nope', scopes: ['read_package_registry'] },
      });
      expect(res.status).toBe(403);
      const all = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100');
      expect(all.filter((e) => e.details.request_id === res.requestId)).toEqual([]);
    });

    it('writes each event as a structured log line naming who, from where and on what, and never a secret', async () => {
      const res = await call('POST', `/api/v4/users/${eve.id}/personal_access_tokens`, s.rootToken, {
        payload: { name: 'logged', scopes: ['api'] },
      });
      const secret: string = res.json().token;
      const [line, ...more] = auditLines(res.requestId);
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        msg: 'audit: personal_access_token_created',
        audit: {
          author_id: 1,
          entity_type: 'User',
          entity_id: eve.id,
          event_name: 'personal_access_token_created',
          details: { author_username: 'root', ip_address: res.ip, target_details: 'logged', authenticated_with: 'personal' },
        },
      });
      expect(log.join('')).not.toContain(secret);
      expect(log.join('')).not.toContain(s.rootToken);
      for (const u of [alice, bob, dan, eve]) expect(log.join('')).not.toContain(u.token);
    });

    it('records an event of background work (no request) as Stowage’s, with no address', async () => {
      const background = await s.api.createProject('background');
      const audit = s.app.get(AuditLog);
      await audit.record(
        auditEvents.memberUpdated({ type: 'Project', id: background.id }, { id: eve.id, username: 'eve' }, { from: 20, to: 40 }),
      );
      const [event] = await s.api.root<AuditEventJson[]>('GET', `/api/v4/projects/${background.id}/audit_events`);
      expect(event).toMatchObject({
        author_id: -1,
        entity_type: 'Project',
        entity_id: background.id,
        event_name: 'member_updated',
        details: {
          author_name: 'Stowage',
          change: 'access_level',
          from: 'Reporter',
          to: 'Maintainer',
          target_details: 'eve',
          entity_path: background.path_with_namespace,
          ip_address: null,
          request_id: null,
        },
      });
    });
  });

  describe('events of token rotation, access tokens, members, protection rules, cleanup policies and deletion', () => {
    it('a personal access token rotated: the old one named, the new one by id, never a secret', async () => {
      const created = await call('POST', '/api/v4/user/personal_access_tokens', dan.token, {
        payload: { name: 'rotating', scopes: ['api'] },
      });
      const rotated = await call('POST', `/api/v4/personal_access_tokens/${created.json().id}/rotate`, dan.token);
      expect(rotated.status).toBe(200);
      const event = await eventOf(rotated, 'personal_access_token_rotated');
      expect(event).toMatchObject({
        author_id: dan.id,
        entity_type: 'User',
        entity_id: dan.id,
        details: { target_id: created.json().id, new_token_id: rotated.json().id, ip_address: rotated.ip },
      });
      expect(JSON.stringify(event)).not.toContain(rotated.json().token);
    });

    it('a project access token created, rotated and revoked, on its project', async () => {
      const created = await call('POST', `/api/v4/projects/${app.id}/access_tokens`, bob.token, {
        payload: { name: 'bot', scopes: ['read_api'], access_level: AccessLevel.DEVELOPER },
      });
      expect(created.status).toBe(201);
      const base = { author_id: bob.id, entity_type: 'Project', entity_id: app.id };
      expect(await eventOf(created, 'project_access_token_created')).toMatchObject({ ...base, details: { target_id: created.json().id } });
      const rotated = await call('POST', `/api/v4/projects/${app.id}/access_tokens/${created.json().id}/rotate`, bob.token);
      expect(rotated.status).toBe(200);
      expect(await eventOf(rotated, 'project_access_token_rotated')).toMatchObject({
        ...base,
        details: { new_token_id: rotated.json().id },
      });
      const revoked = await call('DELETE', `/api/v4/projects/${app.id}/access_tokens/${rotated.json().id}`, bob.token);
      expect(revoked.status).toBe(204);
      expect(await eventOf(revoked, 'project_access_token_revoked')).toMatchObject({ ...base, details: { target_id: rotated.json().id } });
    });

    it('a member’s role changed and the member removed, with from and to', async () => {
      const yan = await s.api.createUser('yan');
      expect(
        (await call('POST', `/api/v4/projects/${app.id}/members`, bob.token, { payload: { user_id: yan.id, access_level: 20 } })).status,
      ).toBe(201);
      const updated = await call('PUT', `/api/v4/projects/${app.id}/members/${yan.id}`, bob.token, { payload: { access_level: 30 } });
      expect(updated.status).toBe(200);
      expect(await eventOf(updated, 'member_updated')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
        details: { target_id: yan.id, target_details: 'yan', from: 'Reporter', to: 'Developer' },
      });
      const removed = await call('DELETE', `/api/v4/projects/${app.id}/members/${yan.id}`, bob.token);
      expect(removed.status).toBe(204);
      expect(await eventOf(removed, 'member_destroyed')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        details: { target_id: yan.id, as: 'Developer' },
      });
    });

    it('a protection rule created, changed (only what changed) and deleted', async () => {
      const rules = `/api/v4/projects/${app.id}/packages/protection/rules`;
      const created = await call('POST', rules, bob.token, {
        payload: { package_name_pattern: 'release-*', package_type: 'generic', minimum_access_level_for_push: 'maintainer' },
      });
      expect(created.status).toBe(201);
      expect(await eventOf(created, 'package_protection_rule_created')).toMatchObject({
        author_id: bob.id,
        entity_type: 'Project',
        entity_id: app.id,
        details: { package_name_pattern: 'release-*', package_type: 'generic' },
      });
      const changed = await call('PATCH', `${rules}/${created.json().id}`, bob.token, {
        payload: { minimum_access_level_for_push: 'owner' },
      });
      expect(changed.status).toBe(200);
      const event = await eventOf(changed, 'package_protection_rule_updated');
      expect(event.details).toMatchObject({ minimum_access_level_for_push_from: '40', minimum_access_level_for_push_to: '50' });
      expect(event.details).not.toHaveProperty('package_name_pattern_from');
      const deleted = await call('DELETE', `${rules}/${created.json().id}`, bob.token);
      expect(deleted.status).toBe(204);
      expect(await eventOf(deleted, 'package_protection_rule_deleted')).toMatchObject({ author_id: bob.id, entity_id: app.id });
    });

    it('a cleanup policy change: one event per setting that changed', async () => {
      const url = `/api/v4/projects/${app.id}/packages/cleanup_policy`;
      const res = await call('PUT', url, bob.token, { payload: { keep_n_versions: 3, keep_n_duplicated_package_files: 'all' } });
      expect(res.status).toBe(200);
      const events = (await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100')).filter(
        (e) => e.details.request_id === res.requestId,
      );
      expect(events.map((e) => [e.event_name, e.details.change, e.details.from, e.details.to])).toEqual([
        ['packages_cleanup_policy_updated', 'keep_n_versions', 'null', '3'],
      ]);
    });

    it('a project deleted, by its Owner', async () => {
      const doomed = (await call('POST', '/api/v4/projects', alice.token, { payload: { name: 'doomed', namespace_id: team.id } })).json();
      const res = await call('DELETE', `/api/v4/projects/${doomed.id}`, alice.token);
      expect(res.status).toBe(202);
      expect(await eventOf(res, 'project_destroyed')).toMatchObject({
        author_id: alice.id,
        entity_type: 'Project',
        entity_id: doomed.id,
        details: { entity_path: 'team/doomed' },
      });
    });
  });

  describe('the audit events API', () => {
    it('lists every event to an admin, newest first, with GitLab’s fields and pagination headers', async () => {
      const res = await call('GET', '/api/v4/audit_events?per_page=2', s.rootToken);
      expect(res.status).toBe(200);
      const events: AuditEventJson[] = res.json();
      expect(events).toHaveLength(2);
      expect(events[0].id).toBeGreaterThan(events[1].id);
      expect(Object.keys(events[0]).sort()).toEqual(['author_id', 'created_at', 'details', 'entity_id', 'entity_type', 'event_name', 'id']);
      expect(Number(res.headers['x-total'])).toBeGreaterThan(5);
      expect(res.headers['x-next-page']).toBe('2');
      expect(String(res.headers.link)).toContain('rel="next"');
      const one = await call('GET', `/api/v4/audit_events/${events[1].id}`, s.rootToken);
      expect(one.status).toBe(200);
      expect(one.json()).toEqual(events[1]);
    });

    it('filters by entity and time', async () => {
      const byUser = await s.api.root<AuditEventJson[]>('GET', `/api/v4/audit_events?entity_type=User&entity_id=${eve.id}`);
      expect(byUser.length).toBeGreaterThan(0);
      expect(byUser.every((e) => e.entity_type === 'User' && e.entity_id === eve.id)).toBe(true);
      const groups = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?entity_type=Group');
      expect(groups.length).toBeGreaterThan(0);
      expect(groups.every((e) => e.entity_type === 'Group')).toBe(true);
      expect(await s.api.root('GET', '/api/v4/audit_events?created_after=2999-01-01')).toEqual([]);
      expect(await s.api.root('GET', '/api/v4/audit_events?created_before=2000-01-01T00:00:00Z')).toEqual([]);
      const all = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events?per_page=100');
      const newest = all[0];
      const upTo = await s.api.root<AuditEventJson[]>(
        'GET',
        `/api/v4/audit_events?per_page=100&created_after=${encodeURIComponent(newest.created_at)}`,
      );
      expect(upTo.map((e) => e.id)).toContain(newest.id);
    });

    it('answers bad parameters with 400 and an unknown event with 404, as GitLab', async () => {
      const bad = await call('GET', '/api/v4/audit_events?created_after=yesterday', s.rootToken);
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'created_after is invalid' });
      const type = await call('GET', '/api/v4/audit_events?entity_type=Package', s.rootToken);
      expect(type.status).toBe(400);
      expect(type.json()).toEqual({ error: 'entity_type does not have a valid value' });
      for (const id of ['999999999', 'abc']) {
        const missing = await call('GET', `/api/v4/audit_events/${id}`, s.rootToken);
        expect(missing.status).toBe(404);
        expect(missing.json()).toEqual({ message: '404 Audit Event Not Found' });
      }
    });

    it('refuses the instance list to anyone but an admin: 403 to users, 401 anonymous', async () => {
      expect((await call('GET', '/api/v4/audit_events', alice.token)).status).toBe(403);
      expect((await call('GET', '/api/v4/audit_events', null)).status).toBe(401);
      const [first] = await s.api.root<AuditEventJson[]>('GET', '/api/v4/audit_events');
      expect((await call('GET', `/api/v4/audit_events/${first.id}`, alice.token)).status).toBe(403);
    });

    it('shows a project’s events to its Maintainers only, and only that project’s', async () => {
      const res = await call('GET', `/api/v4/projects/${app.id}/audit_events?per_page=100`, bob.token);
      expect(res.status).toBe(200);
      const events: AuditEventJson[] = res.json();
      expect(events.map((e) => e.event_name)).toEqual(expect.arrayContaining(['deploy_token_created', 'package_deleted']));
      expect(events.every((e) => e.entity_type === 'Project' && e.entity_id === app.id)).toBe(true);
      const one = await call('GET', `/api/v4/projects/${app.id}/audit_events/${events[0].id}`, bob.token);
      expect(one.json()).toEqual(events[0]);
      // An event of another entity is not found under this project.
      const [userEvent] = await s.api.root<AuditEventJson[]>('GET', `/api/v4/audit_events?entity_type=User&entity_id=${eve.id}`);
      const elsewhere = await call('GET', `/api/v4/projects/${app.id}/audit_events/${userEvent.id}`, bob.token);
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.json()).toEqual({ message: '404 Audit Event Not Found' });

      expect((await call('GET', `/api/v4/projects/${app.id}/audit_events`, alice.token)).status).toBe(200); // group Owner
      // A Developer sees only the events they made (dan made none here); a Reporter none at all.
      const developer = await call('GET', `/api/v4/projects/${app.id}/audit_events`, dan.token);
      expect(developer.status).toBe(200);
      expect(developer.json()).toEqual([]);
      expect((await call('GET', `/api/v4/projects/${app.id}/audit_events/${events[0].id}`, dan.token)).status).toBe(404);
      const reporter = await call('GET', `/api/v4/projects/${app.id}/audit_events`, eve.token); // group Reporter
      expect(reporter.status).toBe(403);
      expect(reporter.json()).toEqual({ message: '403 Forbidden' });
      const outsider = await call('GET', `/api/v4/projects/${app.id}/audit_events`, zed.token);
      expect(outsider.status).toBe(404);
      expect(outsider.json()).toEqual({ message: '404 Project Not Found' });
      expect((await call('GET', `/api/v4/projects/${app.id}/audit_events`, null)).status).toBe(401);
      expect((await call('GET', `/api/v4/projects/${other.id}/audit_events`, s.rootToken)).json()).toEqual([]);
    });

    it('shows a group’s events to its Owners, and to its Maintainers and Developers their own', async () => {
      const res = await call('GET', `/api/v4/groups/${team.id}/audit_events`, alice.token);
      expect(res.status).toBe(200);
      const events: AuditEventJson[] = res.json();
      expect(events.map((e) => e.event_name)).toEqual(expect.arrayContaining(['member_created', 'deploy_token_created']));
      expect(events.every((e) => e.entity_type === 'Group' && e.entity_id === team.id)).toBe(true);
      const one = await call('GET', `/api/v4/groups/${team.id}/audit_events/${events[0].id}`, alice.token);
      expect(one.json()).toEqual(events[0]);
      // A group Maintainer: the events it made, not the Owner's.
      const gil = await s.api.createUser('gil');
      await s.api.addMember({ group: team.id }, gil.id, AccessLevel.MAINTAINER);
      const added = await call('POST', `/api/v4/groups/${team.id}/members`, gil.token, { payload: { user_id: zed.id, access_level: 10 } });
      expect(added.status).toBe(201);
      const own = (await call('GET', `/api/v4/groups/${team.id}/audit_events`, gil.token)).json() as AuditEventJson[];
      expect(own.map((e) => [e.event_name, e.author_id])).toEqual([['member_created', gil.id]]);
      expect((await call('GET', `/api/v4/groups/${team.id}/audit_events/${events[0].id}`, gil.token)).status).toBe(404);
      // eve is a Reporter of the group, bob a Maintainer of one of its projects: they may see the group, not its events.
      expect((await call('GET', `/api/v4/groups/${team.id}/audit_events`, eve.token)).status).toBe(403);
      expect((await call('GET', `/api/v4/groups/${team.id}/audit_events`, bob.token)).status).toBe(403);
      const stranger = await s.api.createUser('stranger');
      const outsider = await call('GET', `/api/v4/groups/${team.id}/audit_events`, stranger.token);
      expect(outsider.status).toBe(404);
      expect(outsider.json()).toEqual({ message: '404 Group Not Found' });
    });
  });
});
