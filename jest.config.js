/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  // Two cores: more workers only compete with the embedded databases they start.
  maxWorkers: 2,
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  setupFiles: ['<rootDir>/test/helpers/env.ts'],
  // The package's own export, as the documented examples import it.
  moduleNameMapper: { '^switchboard/client$': '<rootDir>/src/client/index.ts' },
};
