/** Concurrent calls for one key share the first call's promise until it settles. */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();
  /** Per key, the sequence number its last flight settled at (bounded: cleared past 10,000 keys). */
  private readonly settled = new Map<string, number>();
  private seq = 0;
  private forgottenBefore = 0;

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = work().finally(() => {
      this.running.delete(key);
      if (this.settled.size >= 10_000) {
        this.settled.clear();
        this.forgottenBefore = this.seq;
      }
      this.settled.set(key, this.seq++);
    });
    this.running.set(key, p);
    return p;
  }

  /** A point to ask `settledSince` about: take it before reading what a flight would write. */
  mark(): number {
    return this.seq;
  }

  /** Whether a flight for `key` has settled since `mark` (true when that is no longer known). */
  settledSince(key: string, mark: number): boolean {
    return mark < this.forgottenBefore || (this.settled.get(key) ?? -1) >= mark;
  }

  has(key: string): boolean {
    return this.running.has(key);
  }

  get(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }
}
