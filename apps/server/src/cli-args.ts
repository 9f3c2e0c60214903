export interface CliArgs {
  command: string[];
  config?: string;
  flags: Map<string, string | true>;
}

/** Flags that take the next argument as their value when not written `--flag=value`. */
const VALUE_FLAGS = new Set(['config', 'to', 'batch']);

/** `stowage [--config FILE] <command…> [--flag[=value]]`. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const command: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value: string | true = eq > 0 ? a.slice(eq + 1) : true;
      if (value === true && VALUE_FLAGS.has(name) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      flags.set(name, value);
    } else {
      command.push(a);
    }
  }
  const config = flags.get('config');
  flags.delete('config');
  return { command, config: typeof config === 'string' ? config : undefined, flags };
}
