import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';

import { ResourceAccess } from '../admin/resource-access';
import { auditEvents } from '../audit/audit-events';
import { AuditLog, entityOf } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import type { Principal } from '../auth/principal';
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
/** The settings a change of is audited (`next_run_at` and `last_run_at` are the schedule's). */
const AUDITED_SETTINGS = [
  'keep_n_duplicated_package_files',
  'keep_n_versions',
  'not_downloaded_for_days',
  'package_name_regex',
  'package_type',
] as const;

@Controller('api/v4/projects/:id/packages/cleanup_policy')
export class CleanupPolicyController {
  constructor(
    private readonly resources: ResourceAccess,
    private readonly policies: CleanupPolicies,
    private readonly runner: CleanupRunner,
    private readonly formats: FormatRegistry,
    private readonly audit: AuditLog,
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
    const before = policyJson(await this.policies.get(ctx.project.id));
    const policy = await this.policies.update(ctx.project.id, patch);
    const after = policyJson(policy);
    for (const key of AUDITED_SETTINGS) {
      if (before[key] !== after[key])
        await this.audit.record(auditEvents.cleanupPolicyChanged(entityOf.project(ctx.project), key, before[key], after[key]));
    }
    return after;
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
