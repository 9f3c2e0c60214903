import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { AuthService } from '../auth/auth.service';
import { SESSION_COOKIE, sessionSecret } from '../auth/credentials';
import type { Principal } from '../auth/principal';
import { csrfTokenFor, WebSessions } from '../auth/web-session';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { HttpError, httpErrors } from '../http/http-error';

function sessionUser(principal: Principal) {
  if (principal.kind !== 'user') return null;
  const u = principal.user;
  return { id: u.id, username: u.username, name: u.name, is_admin: u.is_admin };
}

/**
 * The web UI's sign-in: a personal access token is exchanged for a session cookie (httpOnly,
 * SameSite=Strict), so the token itself never stays in the browser. Changes made with the
 * cookie need the session's CSRF token in `X-CSRF-Token` (AuthService).
 */
@Controller('-/session')
export class SessionController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: WebSessions,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async show(@Req() request: FastifyRequest) {
    const { principal, source } = await this.auth.authenticate(request, { session: true });
    if (source !== 'cookie' || principal.kind !== 'user') return { user: null, csrf_token: null };
    return { user: sessionUser(principal), csrf_token: csrfTokenFor(sessionSecret(request.headers)!) };
  }

  @Post()
  @Header('Cache-Control', 'no-store')
  async create(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    // Only the UI's own fetch may sign in: a page of another site can send a form (urlencoded or
    // multipart) but not JSON without a CORS preflight this server never grants, so nobody can
    // sign a visitor in as someone else.
    if (!/^application\/json\s*(?:;|$)/i.test(request.headers['content-type'] ?? '')) {
      throw new HttpError(415, { message: '415 Unsupported Media Type - sign in with a JSON body' });
    }
    const secret = new ApiParams({}, body).string('token', { required: true, max: 512 })!;
    const { principal } = await this.auth.authenticateCredential({ secret, source: 'private-token', kind: 'personal' });
    // A derived token (a Conan login's) lives by its parent; a session of it would outlive that one's revocation.
    if (principal.kind !== 'user' || principal.token.parent_id !== null) throw httpErrors.unauthorized();
    const session = await this.sessions.create(principal.token, principal.user);
    reply.status(201).header('set-cookie', this.cookie(session.secret, session.expiresAt));
    return { user: sessionUser(principal), csrf_token: csrfTokenFor(session.secret) };
  }

  @Delete()
  @HttpCode(204)
  async destroy(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    // authenticate() has checked the CSRF token of a cookie sent with a DELETE.
    const { principal, source } = await this.auth.authenticate(request, { session: true });
    if (source === 'cookie' && principal.kind === 'user') await this.sessions.end(principal.token);
    reply.header('set-cookie', this.cookie('', new Date(0)));
  }

  private cookie(value: string, expires: Date): string {
    return stringifySetCookie({
      name: SESSION_COOKIE,
      value,
      httpOnly: true,
      sameSite: 'strict',
      secure: externalBaseUrl(this.config).startsWith('https:'),
      path: '/',
      expires,
    });
  }
}
