import { Controller, Get } from '@nestjs/common';
import { CurrentPrincipal, PackageAccess, type Principal, unauthorizedWithChallenge } from '@stowage/core';

/**
 * `npm whoami` and `npm ping`, which release tools (semantic-release, release-it) call
 * against the publish registry before publishing. GitLab has neither.
 */
@Controller('api/v4/projects/:id/packages/npm/-')
export class NpmSessionController {
  @Get('whoami')
  @PackageAccess('read')
  whoami(@CurrentPrincipal() principal: Principal) {
    if (principal.kind === 'user' || principal.kind === 'job') return { username: principal.user.username };
    if (principal.kind === 'deploy') return { username: principal.token.username ?? `deploy-token-${principal.token.id}` };
    throw unauthorizedWithChallenge();
  }

  @Get('ping')
  @PackageAccess('read')
  ping() {
    return {};
  }
}
