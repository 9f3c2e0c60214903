import 'reflect-metadata';

import { s3Storage } from '@stowage/storage-s3';

import { envOverrides, resolveConfig } from '../src/config';

// A STOWAGE_* value beginning with `{` or `[` that is not YAML used to throw the parser's error, which quotes the value, out of the CLI.
describe('STOWAGE_* overrides of secrets', () => {
  const secret = '{wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it('a value that does not parse as an inline list or mapping is the string given, never echoed in an error', () => {
    const raw = envOverrides({ STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__AWS_SECRET_ACCESS_KEY: secret });
    const config = resolveConfig(raw, new Map(), [s3Storage]);
    const os = config.packages.object_store as unknown as { connection: { aws_secret_access_key?: string } };
    expect(os.connection.aws_secret_access_key).toBe(secret);
  });

  it('inline lists and mappings still parse', () => {
    expect(envOverrides({ STOWAGE_PLUGINS: '["@acme/format-helm"]', STOWAGE_X__Y: '{a: 1}' })).toEqual({
      plugins: ['@acme/format-helm'],
      x: { y: { a: 1 } },
    });
  });
});
