import { ConfigError, resolveConfig } from '@stowage/core';

import { goFormat } from '../src';

// A subclass's own validators replace the inherited ones for that property (class-validator):
// FormatConfig's `min: 0` does not reach an overriding `max_file_size`.
describe('formats.go.max_file_size', () => {
  const resolve = (max_file_size: unknown) =>
    resolveConfig({ formats: { go: { max_file_size } } }, new Map([['go', goFormat.config!]])).formats.go as { max_file_size: number };

  it('takes 0 (the go command’s 500 MiB) up to 500 MiB', () => {
    expect(resolve(0).max_file_size).toBe(0);
    expect(resolve(500 * 1024 ** 2).max_file_size).toBe(500 * 1024 ** 2);
  });

  it.each([-1, 500 * 1024 ** 2 + 1])('refuses %d, naming the key', (value) => {
    expect(() => resolve(value)).toThrow(ConfigError);
    expect(() => resolve(value)).toThrow(/formats\.go\.max_file_size/);
  });
});
