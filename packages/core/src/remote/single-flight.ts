/** Concurrent calls for one key share the first call's promise until it settles. */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = work().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  has(key: string): boolean {
    return this.running.has(key);
  }

  get(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }
}
