import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { JobQueue } from '../jobs/job-queue';
import { Package } from '../packages/package.entity';
import { PackageService } from '../packages/package.service';

export const REMOVE_RESOURCE_JOB = 'resources.remove';
/** Packages deleted per transaction: a big project never holds one transaction (nor the blobs' rows) for long. */
const BATCH = 100;

export interface Removal {
  kind: 'project' | 'namespace';
  id: number;
}

/**
 * DELETE of a project, a group or a user's namespace, as GitLab does it: the row is marked
 * `pending_delete` in the request, which hides it from every lookup on every server at once
 * (ProjectsService, readableProjects; the column is on an access table), and a job removes the
 * rest: its packages go to `pending_destruction`, then are deleted in batches through
 * PackageWriter (their blobs are marked orphaned and BlobCollector removes the files after the
 * grace period, so a download already streaming one finishes whole), then the rows themselves.
 */
@Injectable()
export class ResourceRemoval implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('removal');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobQueue,
    private readonly packages: PackageService,
  ) {}

  onModuleInit(): void {
    this.jobs.define<Removal>(REMOVE_RESOURCE_JOB, (data) => this.remove(data));
  }

  /** The embedded queue keeps nothing across a restart: a removal cut short is queued again (on Redis it is a no-op). */
  async onApplicationBootstrap(): Promise<void> {
    await this.resume();
  }

  /** Hides the project now and queues its removal. */
  async removeProject(projectId: number): Promise<void> {
    await this.hide(this.ds.manager, { kind: 'project', id: projectId });
    await this.enqueue({ kind: 'project', id: projectId });
  }

  /** Hides the namespace, everything below it and all their projects now, and queues their removal. */
  async removeNamespace(namespaceId: number): Promise<void> {
    await this.ds.transaction((m) => this.hide(m, { kind: 'namespace', id: namespaceId }));
    await this.enqueue({ kind: 'namespace', id: namespaceId });
  }

  /** Marks what `removal` removes as pending deletion, in the caller's transaction; `enqueue` it after the commit. */
  async hide(manager: EntityManager, removal: Removal): Promise<void> {
    if (removal.kind === 'project') {
      await manager.query('UPDATE projects SET pending_delete = true WHERE id = $1', [removal.id]);
      return;
    }
    await manager.query('UPDATE namespaces SET pending_delete = true WHERE $1 = ANY(traversal_ids)', [removal.id]);
    await manager.query(
      'UPDATE projects p SET pending_delete = true FROM namespaces n WHERE n.id = p.namespace_id AND $1 = ANY(n.traversal_ids)',
      [removal.id],
    );
  }

  /** Queues the removal of what `hide` marked (once its transaction has committed: the job acts only on marked rows). */
  async enqueue(removal: Removal): Promise<void> {
    await this.jobs.add(REMOVE_RESOURCE_JOB, removal, { jobId: `remove:${removal.kind}:${removal.id}`, attempts: 5, backoffMs: 2000 });
  }

  /** Queues again every removal a stopped process left unfinished. */
  async resume(): Promise<void> {
    const namespaces: { id: number }[] = await this.ds.query(
      `SELECT n.id FROM namespaces n WHERE n.pending_delete
         AND NOT EXISTS (SELECT 1 FROM namespaces a WHERE a.pending_delete AND a.id = n.parent_id)`,
    );
    for (const n of namespaces) await this.enqueue({ kind: 'namespace', id: n.id });
    const projects: { id: number }[] = await this.ds.query(
      'SELECT p.id FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE p.pending_delete AND NOT n.pending_delete',
    );
    for (const p of projects) await this.enqueue({ kind: 'project', id: p.id });
  }

  private async remove(removal: Removal): Promise<void> {
    if (removal.kind === 'project') {
      await this.removeProjectNow(removal.id);
      return;
    }
    const projects: { id: number }[] = await this.ds.query(
      'SELECT p.id FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE $1 = ANY(n.traversal_ids) ORDER BY p.id',
      [removal.id],
    );
    for (const p of projects) await this.removeProjectNow(p.id);
    await this.ds.transaction(async (m) => {
      const rows: { id: number }[] = await m.query('SELECT id FROM namespaces WHERE $1 = ANY(traversal_ids) AND pending_delete', [
        removal.id,
      ]);
      const ids = rows.map((r) => r.id);
      if (!ids.length) return;
      await m.query("DELETE FROM members WHERE source_type = 'namespace' AND source_id = ANY($1)", [ids]);
      // A user's namespace goes once its user is gone (DELETE /users/:id deletes the user first).
      await m.query(
        'DELETE FROM namespaces WHERE id = ANY($1) AND NOT EXISTS (SELECT 1 FROM users u WHERE u.namespace_id = namespaces.id)',
        [ids],
      );
    });
    this.logger.log({ namespace: removal.id, projects: projects.length }, 'removed a namespace');
  }

  private async removeProjectNow(projectId: number): Promise<void> {
    const [marked] = await this.ds.query('SELECT 1 FROM projects WHERE id = $1 AND pending_delete', [projectId]);
    if (!marked) return;
    await this.ds.query("UPDATE packages SET status = 'pending_destruction' WHERE project_id = $1 AND status <> 'pending_destruction'", [
      projectId,
    ]);
    for (;;) {
      const n = await this.packages.write(async (w) => {
        const rows: Package[] = await w.manager
          .getRepository(Package)
          .createQueryBuilder('pkg')
          .where('pkg.project_id = :projectId', { projectId })
          .orderBy('pkg.id')
          .limit(BATCH)
          .setLock('pessimistic_write')
          .getMany();
        for (const pkg of rows) await w.deletePackage(pkg);
        return rows.length;
      });
      if (n < BATCH) break;
    }
    await this.ds.transaction(async (m) => {
      await m.query("DELETE FROM members WHERE source_type = 'project' AND source_id = $1", [projectId]);
      await m.query('DELETE FROM projects WHERE id = $1', [projectId]);
    });
  }
}
