import type { FastifyRequest } from 'fastify';

import { readableProjects } from '../src/auth/access.service';
import { narrowInstance, packageScope, scopeKey, scopeMiss } from '../src/auth/package-scope';
import type { Principal } from '../src/auth/principal';
import { setRequestContext, type StowageRequestContext } from '../src/auth/request-context';
import { HttpError } from '../src/http/http-error';
import type { Namespace } from '../src/projects/namespace.entity';
import type { ProjectContext } from '../src/projects/project-context';

const anonymous: Principal = { kind: 'anonymous' };
const user = { kind: 'user', user: { id: 7, is_admin: false }, token: {} } as unknown as Principal;

function request(ctx: Partial<StowageRequestContext> & { principal?: Principal }): FastifyRequest {
  const req = {} as FastifyRequest;
  setRequestContext(req, { auth: { principal: ctx.principal ?? anonymous, rejected: false }, ...ctx });
  return req;
}

const project = (mayList: boolean) => ({
  project: { project: { id: 12 } } as unknown as ProjectContext,
  permissions: { visible: true, accessLevel: 10, allows: () => true, mayList, scopeAllows: () => true },
});

describe('packageScope', () => {
  it('is the project the guard resolved', () => {
    expect(packageScope(request(project(true)))).toEqual({ kind: 'project', projectId: 12 });
  });

  it('applies the Guest rule to a project listing: 403, or the error the format asks for', () => {
    expect(() => packageScope(request(project(false)))).not.toThrow();
    expect(() => packageScope(request(project(false)), { listing: true })).toThrow(HttpError);
    const refuse = new Error('npm refuses');
    expect(() => packageScope(request(project(false)), { listing: true, refuse: () => refuse })).toThrow(refuse);
    expect(packageScope(request(project(true)), { listing: true })).toEqual({ kind: 'project', projectId: 12 });
  });

  it('is a group with the projects the caller may read, or list', () => {
    const group = { id: 3 } as Namespace;
    expect(packageScope(request({ group, principal: user }))).toEqual({ kind: 'group', groupId: 3, readable: readableProjects(user) });
    expect(packageScope(request({ group, principal: user }), { listing: true })).toEqual({
      kind: 'group',
      groupId: 3,
      readable: readableProjects(user, { listing: true }),
    });
  });

  it('is the instance with the projects the caller may read', () => {
    expect(packageScope(request({}))).toEqual({ kind: 'instance', readable: readableProjects(anonymous) });
  });
});

describe('narrowInstance, scopeKey, scopeMiss', () => {
  const instance = packageScope(request({}));
  const projectScope = { kind: 'project' as const, projectId: 12 };

  it('narrows only an instance scope, and the key names the narrowing', () => {
    expect(narrowInstance(projectScope, { rootNamespace: 'acme' })).toBe(projectScope);
    const npm = narrowInstance(instance, { rootNamespace: 'Acme' });
    expect(npm).toMatchObject({ kind: 'instance', rootNamespace: 'Acme' });
    expect([scopeKey(projectScope), scopeKey({ kind: 'group', groupId: 3, readable: readableProjects(user) })]).toEqual(['p12', 'g3']);
    expect([scopeKey(instance), scopeKey(npm), scopeKey(narrowInstance(instance, { namePrefixedByProjectPath: true }))]).toEqual([
      'i',
      'i@acme',
      'i/',
    ]);
  });

  it('asks an anonymous caller to log in on a group or instance miss; 404 otherwise', () => {
    const notFound = () => new HttpError(404, 'not found');
    expect((scopeMiss(instance, anonymous, notFound) as HttpError).status).toBe(401);
    expect((scopeMiss(instance, user, notFound) as HttpError).status).toBe(404);
    expect((scopeMiss(projectScope, anonymous, notFound) as HttpError).status).toBe(404);
  });
});
