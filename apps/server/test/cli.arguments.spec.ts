import { runCli } from '../src/cli';

// The config named does not exist,
// so a command that is accepted ends with 78 (EX_CONFIG) and nothing runs.
describe('stowage CLI, surplus words', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => (stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true)));
  afterEach(() => stderr.mockRestore());

  it.each([
    [['packages', 'migrate', 'local']], // meant `--to local`: would migrate every file to the object store
    [['packages', 'verify', 'sweep']], // meant `--sweep`
    [['migrate-db', 'now']],
    [['serve', 'extra']],
  ])('%j is refused as a usage error (exit 2), as before the move to commander', async (words) => {
    expect(await runCli(['--config', '/nonexistent/stowage.yml', ...words])).toBe(2);
  });
});
