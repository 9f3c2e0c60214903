import { setImmediate as afterIo } from 'node:timers/promises';

/**
 * Lets a long CPU-bound loop over client input (a zip's directory, an XML document) share the
 * event loop: every other request, `/-/liveness` included, waits while one runs. The loop asks
 * `due()` for each item and, when its slice of time is used up, awaits `pause()`, which lets
 * pending I/O and timers run before it goes on. An upload of a million entries then costs its
 * CPU time without holding the loop for more than a slice at a time.
 */
export class TimeSlice {
  private deadline: number;
  private calls = 0;

  /**
   * @param ms how long the loop may run between pauses
   * @param every how many items pass between two readings of the clock: 1 for items that may
   *   each take a while (an entry's data), more for items of a microsecond or less
   */
  constructor(
    private readonly ms = 10,
    private readonly every = 16,
  ) {
    this.deadline = performance.now() + ms;
  }

  /** Whether the slice is used up (the clock is read on every `every`-th call). */
  due(): boolean {
    if (++this.calls < this.every) return false;
    this.calls = 0;
    return performance.now() >= this.deadline;
  }

  /** Resolves once the event loop has run what was waiting; a new slice starts then. */
  async pause(): Promise<void> {
    await afterIo();
    this.deadline = performance.now() + this.ms;
  }
}
