import type { FormatPlugin } from './format-plugin';

/** The format plugins enabled in this process; what core asks instead of branching on names. */
export class FormatRegistry {
  private readonly byName: ReadonlyMap<string, FormatPlugin>;

  constructor(formats: readonly FormatPlugin[]) {
    this.byName = new Map(formats.map((f) => [f.name, f]));
  }

  get(name: string): FormatPlugin {
    const f = this.byName.get(name);
    if (!f) throw new Error(`format ${name} is not enabled`);
    return f;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Every extra credential header the enabled formats declare. */
  credentialHeaders(): string[] {
    return [...new Set([...this.byName.values()].flatMap((f) => f.credentialHeaders))];
  }
}
