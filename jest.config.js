/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  // Two cores: more workers only compete for them.
  maxWorkers: 2,
  // One embedded PostgreSQL server per worker for the whole run (test/helpers/databases.ts).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  setupFiles: ['<rootDir>/test/helpers/env.ts'],
  // The package's own export, as the documented examples import it.
  moduleNameMapper: { '^switchboard/client$': '<rootDir>/src/client/index.ts' },
};
