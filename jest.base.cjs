// Shared Jest settings for every workspace package. @swc/jest compiles TypeScript to CommonJS
// (no type check: `pnpm typecheck` does that). ESM-only dependencies (@nestjs 12, cookie,
// file-type) load untransformed: Jest 30 on Node 24.9+ uses Node's own require() of ES modules.
const path = require('node:path');

const root = __dirname;

module.exports = function jestConfig(packageDir) {
  return {
    displayName: path.relative(root, packageDir),
    rootDir: packageDir,
    testEnvironment: 'node',
    // Unit and HTTP-level specs alike live in each package's test/, never beside the code.
    testMatch: ['<rootDir>/test/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2022',
            keepClassNames: true,
          },
          module: { type: 'commonjs' },
        },
      ],
    },
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    // Workspace packages resolve to their sources, so tests never need a build first.
    moduleNameMapper: {
      '^@stowage/([a-z0-9-]+)$': `${root}/packages/$1/src`,
    },
    testTimeout: 60_000,
  };
};
