import { SingleFlight } from '../src/remote/single-flight';

describe('SingleFlight', () => {
  it('shares one call per key while it runs, and tells whether a flight settled since a mark', async () => {
    const flights = new SingleFlight<number>();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const before = flights.mark();
    const first = flights.run('a', async () => {
      calls++;
      await gate;
      return 1;
    });
    const second = flights.run('a', async () => ++calls);
    const during = flights.mark();
    expect(flights.settledSince('a', before)).toBe(false);
    release();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(calls).toBe(1);
    expect([flights.settledSince('a', before), flights.settledSince('a', during)]).toEqual([true, true]);
    const after = flights.mark();
    expect([flights.settledSince('a', after), flights.settledSince('b', before)]).toEqual([false, false]);
    await flights.run('b', async () => 2);
    expect([flights.settledSince('b', after), flights.settledSince('a', after)]).toEqual([true, false]);
  });

  it('forgets past 10,000 keys, and then answers "settled" for marks taken before', async () => {
    const flights = new SingleFlight<number>();
    const old = flights.mark();
    for (let i = 0; i < 10_001; i++) await flights.run(`k${i}`, async () => i);
    const fresh = flights.mark();
    expect([flights.settledSince('never-run', old), flights.settledSince('never-run', fresh)]).toEqual([true, false]);
  });
});
