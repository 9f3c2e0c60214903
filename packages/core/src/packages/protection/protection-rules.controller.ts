import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { ResourceAccess } from '../../admin/resource-access';
import { auditEvents } from '../../audit/audit-events';
import { AuditLog, entityOf } from '../../audit/audit-log';
import { AccessLevel } from '../../auth/access-level';
import { ApiAccess } from '../../auth/api-access.guard';
import type { Principal } from '../../auth/principal';
import { CurrentPrincipal } from '../../auth/request-context';
import { HttpError } from '../../http/http-error';
import { FormatRegistry } from '../../plugin/format-registry';
import { apiPackageType } from '../package-types';
import { PackageProtectionRule } from './package-protection-rule.entity';
import { levelName, type RuleFields, ruleId, ruleParams, ruleProblems, ruleTypes, TAKEN, unprocessable } from './protection-rule-params';

type Row = Record<string, unknown>;

/** GitLab's `API::Entities::Projects::Packages::Protection::Rule`. */
function ruleJson(rule: PackageProtectionRule) {
  return {
    id: rule.id,
    project_id: rule.project_id,
    package_name_pattern: rule.package_name_pattern,
    package_type: apiPackageType(rule.package_type),
    minimum_access_level_for_delete: levelName(rule.minimum_access_level_for_delete),
    minimum_access_level_for_push: levelName(rule.minimum_access_level_for_push),
  };
}

function toRule(row: Row): PackageProtectionRule {
  return Object.assign(new PackageProtectionRule(), row, {
    id: Number(row.id),
    project_id: Number(row.project_id),
    minimum_access_level_for_push: row.minimum_access_level_for_push === null ? null : Number(row.minimum_access_level_for_push),
    minimum_access_level_for_delete: row.minimum_access_level_for_delete === null ? null : Number(row.minimum_access_level_for_delete),
  });
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return e.code === '23505' || e.driverError?.code === '23505';
}

/**
 * GitLab's package protection rules API (`lib/api/project_packages_protection_rules.rb`):
 * Maintainers and above list, create, change and delete a project's rules. As GitLab, the
 * list is one unpaginated array (a project has a handful of rules).
 */
const RULE_FIELDS = ['package_type', 'package_name_pattern', 'minimum_access_level_for_push', 'minimum_access_level_for_delete'] as const;

@Controller('api/v4/projects/:id/packages/protection/rules')
export class ProtectionRulesController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly resources: ResourceAccess,
    private readonly formats: FormatRegistry,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiAccess()
  async list(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const rows = await this.ds.getRepository(PackageProtectionRule).find({ where: { project_id: ctx.project.id }, order: { id: 'ASC' } });
    return rows.map(ruleJson);
  }

  @Post()
  @ApiAccess({ write: true })
  async create(@Param('id') id: string, @Query() query: unknown, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const fields = ruleParams(query, body, this.types(), true) as RuleFields;
    const problems = ruleProblems(fields);
    if (problems.length) throw unprocessable(problems);
    const rows: Row[] = await this.ds.query(
      `INSERT INTO package_protection_rules
         (project_id, package_type, package_name_pattern, minimum_access_level_for_push, minimum_access_level_for_delete)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (project_id, package_type, package_name_pattern) DO NOTHING RETURNING *`,
      [
        ctx.project.id,
        fields.package_type,
        fields.package_name_pattern,
        fields.minimum_access_level_for_push,
        fields.minimum_access_level_for_delete,
      ],
    );
    if (!rows.length) throw unprocessable([TAKEN]);
    const rule = toRule(rows[0]);
    await this.audit.record(auditEvents.protectionRule('created', entityOf.project(ctx.project), rule));
    return ruleJson(rule);
  }

  @Patch(':package_protection_rule_id')
  @ApiAccess({ write: true })
  async update(
    @Param('id') id: string,
    @Param('package_protection_rule_id') rawRuleId: string,
    @Query() query: unknown,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const ruleIdValue = ruleId(rawRuleId);
    const changes = ruleParams(query, body, this.types(), false);
    return this.ds.transaction(async (m) => {
      const [current] = (await m.query('SELECT * FROM package_protection_rules WHERE id = $1 AND project_id = $2 FOR UPDATE', [
        ruleIdValue,
        ctx.project.id,
      ])) as Row[];
      if (!current) throw notFound();
      const merged: RuleFields = { ...toRule(current), ...changes };
      const problems = ruleProblems(merged);
      if (problems.length) throw unprocessable(problems);
      try {
        const [rows] = await m.query(
          `UPDATE package_protection_rules SET package_type = $2, package_name_pattern = $3,
             minimum_access_level_for_push = $4, minimum_access_level_for_delete = $5, updated_at = now()
           WHERE id = $1 RETURNING *`,
          [
            ruleIdValue,
            merged.package_type,
            merged.package_name_pattern,
            merged.minimum_access_level_for_push,
            merged.minimum_access_level_for_delete,
          ],
        );
        const rule = toRule((rows as Row[])[0]);
        const before = toRule(current);
        const changed = RULE_FIELDS.filter((k) => before[k] !== rule[k]).map((k): [string, [unknown, unknown]] => [
          k,
          [before[k], rule[k]],
        ]);
        if (changed.length) {
          await this.audit.record(auditEvents.protectionRule('updated', entityOf.project(ctx.project), rule, Object.fromEntries(changed)), {
            manager: m,
          });
        }
        return ruleJson(rule);
      } catch (err) {
        if (isUniqueViolation(err)) throw unprocessable([TAKEN]);
        throw err;
      }
    });
  }

  @Delete(':package_protection_rule_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async destroy(
    @Param('id') id: string,
    @Param('package_protection_rule_id') rawRuleId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const [rows] = (await this.ds.query('DELETE FROM package_protection_rules WHERE id = $1 AND project_id = $2 RETURNING *', [
      ruleId(rawRuleId),
      ctx.project.id,
    ])) as [Row[], number];
    if (!rows.length) throw notFound();
    await this.audit.record(auditEvents.protectionRule('deleted', entityOf.project(ctx.project), toRule(rows[0])));
  }

  private types(): string[] {
    return ruleTypes(this.formats.names());
  }
}

/** GitLab's answer to a rule id not in the project (`ActiveRecord::RecordNotFound`). */
function notFound(): HttpError {
  return new HttpError(404, { message: '404 Not found' });
}
