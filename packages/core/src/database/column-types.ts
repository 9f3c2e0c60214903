import type { ValueTransformer } from 'typeorm';

/** bigint columns arrive as strings (pg) or BigInts (PGlite); sizes fit in a double. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | bigint | number | null) => (value === null ? null : Number(value)),
};
