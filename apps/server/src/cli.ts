import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import type { LoadedConfig } from './load-config';

// Required when a command runs, not imported at the top: --help and usage errors then answer
// at once instead of after loading core and every format (seconds on a busy host).
/* eslint-disable @typescript-eslint/no-require-imports */
const commands = () => require('./commands') as typeof import('./commands');
const packagesCommands = () => require('./packages-commands') as typeof import('./packages-commands');
const remoteCommands = () => require('./remote-commands') as typeof import('./remote-commands');
const configLoading = () => ({
  ...(require('./load-config') as typeof import('./load-config')),
  ...(require('./plugins') as typeof import('./plugins')),
  ...(require('@stowage/core') as typeof import('@stowage/core')),
});
/* eslint-enable @typescript-eslint/no-require-imports */

const EX_USAGE = 2;
const EX_CONFIG = 78;

const CONFIG_HELP = `
The config is read from --config, STOWAGE_CONFIG or ./stowage.yml, with STOWAGE_* overrides
(STOWAGE_SERVER__PORT=9000). See docs/configuration.md.
`;

function byteCount(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('must be a number of bytes.');
  return Number(value);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

/**
 * The `stowage` command line. Resolves to the exit code for commands that end, undefined for
 * those that keep running (serve, worker).
 */
export async function runCli(argv: readonly string[]): Promise<number | undefined> {
  let exitCode: number | undefined;
  const program = new Command('stowage')
    .usage('[--config FILE] <command>')
    .option('--config <file>', 'the config file (default: STOWAGE_CONFIG, else ./stowage.yml)')
    .addHelpText('after', CONFIG_HELP)
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`stowage: ${message.replace(/^error: /, '')}`) })
    .showHelpAfterError("(run 'stowage --help' for usage)")
    .helpCommand(true);

  /** Loads the config, then runs the command; a bad config exits 78 (EX_CONFIG). */
  const withConfig =
    <A extends unknown[]>(command: (loaded: LoadedConfig, ...args: A) => Promise<void | number>, endsWith?: number) =>
    async (...args: A) => {
      const { ConfigError, loadConfig, PluginLoadError } = configLoading();
      let loaded: LoadedConfig;
      try {
        loaded = loadConfig(program.opts<{ config?: string }>().config);
      } catch (err) {
        if (!(err instanceof ConfigError || err instanceof PluginLoadError)) throw err;
        process.stderr.write(`stowage: ${err.message}\n`);
        exitCode = EX_CONFIG;
        return;
      }
      const code = await command(loaded, ...args);
      exitCode = typeof code === 'number' ? code : endsWith;
    };

  program
    .command('serve')
    .description('serve HTTP (and run background jobs unless jobs.run_in_server is false)')
    .action(withConfig((loaded) => commands().serve(loaded)));
  program
    .command('worker')
    .description('run background jobs only')
    .action(withConfig((loaded) => commands().worker(loaded)));
  program
    .command('migrate-db')
    .description('bring the database schema up to date, then exit')
    .action(withConfig((loaded) => commands().migrateDb(loaded), 0));

  const packages = program
    .command('packages')
    .usage('<command> [options]')
    .summary('migrate [--to object|local] [--batch N]: move package files between stores; verify [--sweep]: check them')
    .description('move package files between stores, or check them');
  packages
    .command('migrate')
    .description('move every package file to object storage (or back), live')
    .addOption(new Option('--to <store>', 'where the files go').choices(['object', 'local']).default('object'))
    .addOption(new Option('--batch <n>', 'blobs per batch').argParser(positiveInteger).default(100))
    .action(
      withConfig((loaded, options: { to: 'object' | 'local'; batch: number }) => packagesCommands().packagesMigrate(loaded, options)),
    );
  packages
    .command('verify')
    .description('check that every package file is in its store with the right size and sha256')
    .option('--sweep', 'remove what crashes left, once older than packages.blob_grace_period_hours')
    .action(
      withConfig((loaded, options: { sweep?: boolean }) => packagesCommands().packagesVerify(loaded, { sweep: options.sweep === true })),
    );

  const remote = program
    .command('remote')
    .usage('<command> [options]')
    .summary('list [--package-type T]: the files cached from upstreams; prune [--max-size BYTES] [--max-unused-days N]')
    .description('show or prune the files cached from upstream registries');
  remote
    .command('list')
    .description('list every file cached from an upstream: where it came from, its size, its last download')
    .option('--package-type <type>', 'only this format (npm, pypi, maven, …)')
    .action(withConfig((loaded, options: { packageType?: string }) => remoteCommands().remoteList(loaded, options)));
  remote
    .command('prune')
    .description('remove cached upstream files now: the least recently downloaded past a total size, and those unused for days')
    .addOption(
      new Option('--max-size <bytes>', 'keep at most this many bytes (default: packages.remote_cache.max_size)').argParser(byteCount),
    )
    .addOption(
      new Option(
        '--max-unused-days <n>',
        'remove files not downloaded for this many days (default: packages.remote_cache.max_unused_days)',
      ).argParser(positiveInteger),
    )
    .action(withConfig((loaded, options: { maxSize?: number; maxUnusedDays?: number }) => remoteCommands().remotePrune(loaded, options)));

  // No command prints the usage; an unknown one prints it too, as an error. Set after the
  // subcommands are added, which would inherit it: a stray word after a command is a usage error.
  program.allowExcessArguments();
  program.action(() => {
    if (!program.args.length) {
      program.outputHelp();
      exitCode = 0;
      return;
    }
    process.stderr.write(`stowage: unknown command "${program.args.join(' ')}"\n\n${program.helpInformation()}`);
    exitCode = EX_USAGE;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // --help and `help` exit 0; every usage error (unknown option, bad --to or --batch) exits 2.
    return err.exitCode === 0 ? 0 : EX_USAGE;
  }
  return exitCode;
}
