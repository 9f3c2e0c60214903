import { Body, Controller, Get, HttpCode, Logger, Param, Post, Put, Query } from '@nestjs/common';

import { ResourceAccess } from '../admin/resource-access';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { FormatRegistry } from '../plugin/format-registry';
import { planJson } from './cleanup-json';
import { CleanupPolicies } from './cleanup-policies.service';
import { policyJson, policyPatch } from './cleanup-policy';
import { CleanupRunner } from './cleanup-runner';

/**
 * A project's packages cleanup policy over REST. GitLab has it over GraphQL only
 * (`packagesCleanupPolicy`, `updatePackagesCleanupPolicy`, Maintainer and up); these routes keep
 * its field names. The dry run is Stowage's own.
 */
@Controller('api/v4/projects/:id/packages/cleanup_policy')
export class CleanupPolicyController {
  private readonly logger = new Logger('packages');

  constructor(
    private readonly resources: ResourceAccess,
    private readonly policies: CleanupPolicies,
    private readonly runner: CleanupRunner,
    private readonly formats: FormatRegistry,
  ) {}

  @Get()
  @ApiAccess()
  async show(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return policyJson(await this.policies.get(ctx.project.id));
  }

  @Put()
  @ApiAccess({ write: true })
  async update(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const patch = policyPatch(query, body, this.formats.names());
    const policy = await this.policies.update(ctx.project.id, patch);
    // Plug point for the audit log ("cleanup policy changed").
    this.logger.log(
      { project_id: ctx.project.id, user_id: principalUser(principal)?.id, policy: policyJson(policy) },
      'packages cleanup policy changed',
    );
    return policyJson(policy);
  }

  /** What the policy would delete now and the bytes that would free; nothing changes. */
  @Post('dry_run')
  @ApiAccess()
  @HttpCode(200)
  async dryRun(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return planJson(await this.runner.dryRun(ctx.project.id));
  }
}
