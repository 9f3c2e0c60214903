import { http, startTestServer, type TestProject, type TestServer, workCpuMs } from '@stowage/testkit';

import { genericFormat, genericPath } from './generic-fixture';

// Issue 14, item 8: a duplicate exception regex is a project owner's (any user owns a personal
// project) and the names it is matched against are the uploader's. It runs on RE2, so no
// pattern can stall the event loop; what RE2 cannot run is refused when it is saved.
// Postgres only: PGlite runs its queries on the event loop, which would blur the measurement.

describe('duplicate exception regex on RE2', () => {
  let s: TestServer;
  let project: TestProject;
  const settingsUrl = () => `/api/v4/projects/${project.id}/package_settings`;

  beforeAll(async () => {
    s = await startTestServer({ mode: 'postgres', listen: true, formats: [genericFormat] });
    project = await s.api.createProject('regex-load');
  });
  afterAll(() => s?.close());

  it.each([
    ['a backreference', '(a)\\1', 'invalid escape sequence: `\\1`'],
    ['a lookahead', 'a(?=b)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['a negative lookahead', 'a(?!b)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['a program too large to run in bounded time', '.*a.{0,200}b', 'pattern too large - compile failed'],
  ])('%s is a 400 when saved, in RE2’s words, and the setting stays as it was', async (_what, regex, problem) => {
    await s.api.setPackageSettings({ project: project.id }, { generic_duplicate_exception_regex: 'kept-.*' });
    const res = await s.api.inject({
      method: 'PUT',
      url: settingsUrl(),
      token: s.rootToken,
      payload: { generic_duplicate_exception_regex: regex },
    });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ error: `generic_duplicate_exception_regex is not valid RE2 syntax: ${problem}` });
    const now = await s.api.inject({ url: settingsUrl(), token: s.rootToken });
    expect(now.json().generic_duplicate_exception_regex).toBe('kept-.*');
  });

  /** CPU milliseconds (testkit's workCpuMs) that 30 concurrent uploads (names and versions of 40 `a`s) cost. */
  async function cpuOfUploads(target: TestProject): Promise<number> {
    const name = 'a'.repeat(40); // a backtracking engine needs ~2^40 steps to say (a+)+b does not match
    const before = workCpuMs();
    const uploads = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        http(s.url, { method: 'PUT', path: genericPath(target.id, `${name}/${name}_${i}/f.txt`), token: s.rootToken, body: `file ${i}` }),
      ),
    );
    const cpuMs = workCpuMs() - before;
    expect(uploads.map((r) => r.status)).toEqual(Array(30).fill(201));
    return cpuMs;
  }

  it('30 concurrent uploads whose names and versions meet (a+)+b cost about what they cost without it', async () => {
    const baseline = await cpuOfUploads(await s.api.createProject('regex-baseline'));
    await s.api.setPackageSettings(
      { project: project.id },
      { generic_duplicates_allowed: false, generic_duplicate_exception_regex: '(a+)+b' },
    );
    const withRegex = await cpuOfUploads(project);
    // Before RE2 each of the 60 matches ran to its 100 ms limit on the event loop: 6 s more. CPU
    // time of the loop and libuv's pool, not the clock, so a busy machine does not pass for it.
    expect(withRegex).toBeLessThan(baseline + 1000);
    // The regex was evaluated and did not match: the duplicate is refused.
    const name = 'a'.repeat(40);
    const again = await http(s.url, {
      method: 'PUT',
      path: genericPath(project.id, `${name}/${name}_0/f.txt`),
      token: s.rootToken,
      body: 'again',
    });
    expect(again.status).toBe(400);
    expect(again.json()).toEqual({ message: '400 Bad request - Duplicate package is not allowed' });
  });
});
