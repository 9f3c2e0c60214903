import { randomUUID } from 'node:crypto';

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { Package } from '../packages/package.entity';
import { PackageService } from '../packages/package.service';
import { PackageFile } from '../packages/package-file.entity';
import type { PackageWriter } from '../packages/package-writer';
import { CleanupGuards } from './cleanup-guards';
import {
  bytesFreed,
  CLEANABLE_STATUSES,
  type CleanupPlan,
  CleanupPlanner,
  planFiles,
  type PlannedDuplicate,
  type PlannedPackage,
} from './cleanup-planner';
import { CleanupPolicies } from './cleanup-policies.service';
import type { CleanupPolicy } from './cleanup-policy';

/** Deletions per transaction. */
const BATCH = 50;
/** A run stops taking batches after this long; the rest is due again at once (the lease lasts longer). */
const RUN_BUDGET_MS = 5 * 60_000;
/** One job stops claiming further projects after this long; the next tick takes them. */
const TICK_BUDGET_MS = 10 * 60_000;

type Row = Record<string, unknown>;

/**
 * Runs cleanup policies: one project on request (`runProject`), or every project whose
 * `next_run_at` has passed (`runDue`, the scheduled job). Each run holds the project's lease,
 * so one server at a time runs a project's policy. Deletions go through PackageWriter, as a
 * user's do: the rows go in one transaction per batch, the blobs nothing else uses are stamped
 * orphaned, and the blob collector removes their bytes after `packages.blob_grace_period_hours`,
 * so a download that read a row before the deletion still finishes from the stored bytes.
 */
@Injectable()
export class CleanupRunner {
  private readonly logger = new Logger('packages');
  private readonly owner = randomUUID();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly policies: CleanupPolicies,
    private readonly planner: CleanupPlanner,
    private readonly packages: PackageService,
    private readonly guards: CleanupGuards,
  ) {}

  /** What the project's policy would delete now; changes nothing. */
  async dryRun(projectId: number): Promise<CleanupPlan> {
    return this.planner.plan(await this.policies.get(projectId));
  }

  /** Runs the project's policy now, due or not; null when it has none or another run holds it. */
  async runProject(projectId: number): Promise<CleanupPlan | null> {
    const policy = await this.policies.claim(projectId, this.owner);
    return policy && this.runClaimed(policy);
  }

  /** Runs every due policy no other run holds; returns how many ran. */
  async runDue(): Promise<number> {
    const started = Date.now();
    let ran = 0;
    while (Date.now() - started < TICK_BUDGET_MS) {
      const policy = await this.policies.claimDue(this.owner);
      if (!policy) break;
      await this.runClaimed(policy).catch((err: unknown) =>
        this.logger.error({ err, project_id: policy.projectId }, 'packages cleanup policy run failed'),
      );
      ran++;
    }
    return ran;
  }

  private async runClaimed(policy: CleanupPolicy): Promise<CleanupPlan> {
    // Cut short by its time budget, a run is due again at once; one that failed waits an interval.
    let again = false;
    try {
      const plan = await this.planner.plan(policy);
      const { done, executed } = await this.execute(plan);
      again = !done;
      const files = planFiles(executed);
      if (files.length) {
        this.logger.log(
          {
            project_id: policy.projectId,
            packages: executed.packages.length,
            package_files: files.length,
            bytes_freed: executed.bytesFreed,
          },
          `packages cleanup policy of project ${policy.projectId} deleted ${executed.packages.length} package(s) and ${files.length} file(s)`,
        );
      }
      return executed;
    } finally {
      await this.policies.release(policy.projectId, this.owner, { again });
    }
  }

  /**
   * Deletes what the plan lists, each item re-checked under its package's row lock: a package
   * written to since it was planned (a new file, a new download for the staleness rule), a
   * duplicate no longer beyond the newest N, or a package a guard now protects is left for the
   * next run. Returns what was deleted, in the plan's shape.
   */
  async execute(plan: CleanupPlan): Promise<{ done: boolean; executed: CleanupPlan }> {
    const started = Date.now();
    const executed: CleanupPlan = { ...plan, packages: [], duplicates: [], bytesFreed: 0 };
    const items: (PlannedPackage | PlannedDuplicate)[] = [...plan.packages, ...plan.duplicates];
    let done = true;
    for (let i = 0; i < items.length; i += BATCH) {
      if (Date.now() - started > RUN_BUDGET_MS) {
        done = false;
        break;
      }
      const batch = items.slice(i, i + BATCH);
      await this.packages.write(async (w) => {
        for (const item of batch) {
          if ('file' in item) {
            if (await this.deleteDuplicate(w, item, plan.keepNDuplicatedPackageFiles!)) executed.duplicates.push(item);
          } else if (await this.deletePackage(w, item)) {
            executed.packages.push(item);
          }
        }
      });
    }
    executed.bytesFreed = await bytesFreed(this.ds.manager, planFiles(executed), { excluding: false });
    return { done, executed };
  }

  private async lockPackage(w: PackageWriter, id: number): Promise<Package | null> {
    const [row] = (await w.manager.query('SELECT * FROM packages WHERE id = $1 AND status = ANY($2) FOR UPDATE', [
      id,
      [...CLEANABLE_STATUSES],
    ])) as Row[];
    return row ? w.manager.getRepository(Package).create(row as Partial<Package>) : null;
  }

  private async deletePackage(w: PackageWriter, planned: PlannedPackage): Promise<boolean> {
    const pkg = await this.lockPackage(w, planned.id);
    if (!pkg || pkg.updated_at.getTime() !== planned.updated_at.getTime()) return false;
    const usedAt = (pkg.last_downloaded_at ?? pkg.created_at).getTime();
    if (planned.reason === 'not_downloaded_for_days' && usedAt !== planned.used_at.getTime()) return false;
    if (await this.guards.protects(pkg, w.manager)) return false;
    await w.deletePackage(pkg);
    // The audit event is deletePackage's (authored by Stowage: no request); this line says why.
    this.logger.log(
      {
        project_id: pkg.project_id,
        package_id: pkg.id,
        package_type: pkg.package_type,
        name: pkg.name,
        version: pkg.version,
        reason: planned.reason,
      },
      'package deleted by cleanup policy',
    );
    return true;
  }

  private async deleteDuplicate(w: PackageWriter, planned: PlannedDuplicate, keep: number): Promise<boolean> {
    const pkg = await this.lockPackage(w, planned.package.id);
    if (!pkg) return false;
    const file = await w.manager.getRepository(PackageFile).findOneBy({ id: planned.file.id, package_id: pkg.id });
    if (!file) return false;
    const [{ newer }] = (await w.manager.query(
      'SELECT count(*) AS newer FROM package_files WHERE package_id = $1 AND file_name = $2 AND id > $3',
      [pkg.id, file.file_name, file.id],
    )) as { newer: string }[];
    if (Number(newer) < keep || (await this.guards.protects(pkg, w.manager))) return false;
    await w.deleteFiles(pkg, [file]);
    this.logger.log(
      {
        project_id: pkg.project_id,
        package_id: pkg.id,
        package_file_id: file.id,
        file_name: file.file_name,
        reason: 'keep_n_duplicated_package_files',
      },
      'package file deleted by cleanup policy',
    );
    return true;
  }
}
