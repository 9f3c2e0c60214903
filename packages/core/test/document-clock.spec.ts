import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { DocumentClock } from '../src/packages/document-clock';

// Last-Modified of documents no row dates, kept in the database: the same date for the same
// bytes, and a later one (by at least a second, HTTP's grain) whenever the bytes change, even
// back to bytes seen before. apps/server/test/multi-server.e2e.spec.ts shows two servers agree.

describe.each(testModes())('DocumentClock (%s)', (mode) => {
  let s: TestServer;
  let clock: DocumentClock;

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    clock = s.app.get(DocumentClock);
  });
  afterAll(() => s?.close());

  it('dates the same bytes the same, in whole seconds; concurrent first readers agree', async () => {
    const dates = await Promise.all(Array.from({ length: 8 }, () => clock.changedAt('doc-a', '"one"')));
    expect(new Set(dates.map((d) => d!.getTime())).size).toBe(1);
    expect(dates[0]!.getMilliseconds()).toBe(0);
    expect(Math.abs(dates[0]!.getTime() - Date.now())).toBeLessThan(5000);
    expect((await clock.changedAt('doc-a', '"one"'))!.getTime()).toBe(dates[0]!.getTime());
  });

  it('moves forward by at least a second on every change, also back to earlier bytes', async () => {
    const one = (await clock.changedAt('doc-b', '"one"'))!.getTime();
    const two = (await clock.changedAt('doc-b', '"two"'))!.getTime();
    const back = (await clock.changedAt('doc-b', '"one"'))!.getTime();
    expect(two).toBeGreaterThanOrEqual(one + 1000);
    expect(back).toBeGreaterThanOrEqual(two + 1000);
    expect((await clock.changedAt('doc-b', '"one"'))!.getTime()).toBe(back);
  });

  it('keeps one clock per document', async () => {
    const c = (await clock.changedAt('doc-c', '"x"'))!.getTime();
    await clock.changedAt('doc-d', '"y"');
    await clock.changedAt('doc-d', '"z"');
    expect((await clock.changedAt('doc-c', '"x"'))!.getTime()).toBe(c);
  });
});
