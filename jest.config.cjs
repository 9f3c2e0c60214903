module.exports = {
  projects: ['<rootDir>/packages/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs'],
  // A global option: ignored in the per-project configs when Jest runs them as projects.
  testTimeout: 60_000,
};
