import { EventEmitter } from 'node:events';

export interface PackageChange {
  kind: 'package.published' | 'package.updated' | 'package.deleted' | 'file.added' | 'file.deleted' | 'tag.changed';
  projectId: number;
  packageType: string;
  normalizedName: string;
  packageId?: number;
}

/**
 * Changes to packages, emitted after the transaction that made them commits. Caches,
 * audit and webhooks subscribe here; nothing may rely on it for correctness across
 * processes (each process only hears its own changes).
 */
export class PackageEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(100);

  on(listener: (change: PackageChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  emit(change: PackageChange): void {
    this.emitter.emit('change', change);
  }
}
