/**
 * Which downloads to record: at most one per package per interval in this process. An install
 * of a busy package would otherwise queue one UPDATE per request behind the reads; the
 * `last_downloaded_at` it keeps needs no finer grain. Forgets everything past `maxTracked`
 * packages rather than grow (the next download of each is recorded again).
 */
export class DownloadMarks {
  private readonly lastMarked = new Map<number, number>();

  constructor(
    private readonly intervalMs = 60_000,
    private readonly maxTracked = 10_000,
    // A monotonic clock: a wall clock stepped back would stop the marks for as long.
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this download of package `id` is to be recorded (and, if so, notes it). */
  take(id: number): boolean {
    const now = this.now();
    const last = this.lastMarked.get(id);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.lastMarked.size >= this.maxTracked) this.lastMarked.clear();
    this.lastMarked.set(id, now);
    return true;
  }
}
