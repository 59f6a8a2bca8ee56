// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The import rules of docs/architecture.md. Each source file is in exactly one layer below (a
// later block would replace an earlier block's rule options, not add to them).
const DOMAIN = [
  'admins',
  'bridge',
  'clients',
  'feeds',
  'github',
  'instances',
  'jira',
  'oauth',
  'outbound',
  'plugins',
  'webhooks',
];
const only = (where) => `only ${where} may import this (docs/architecture.md)`;
const SDK = {
  group: ['matrix-js-sdk', 'matrix-js-sdk/**'],
  message: only('src/matrix'),
};
const DB_DRIVERS = [
  { name: 'knex', allowTypeImports: true, message: only('src/db (types are free)') },
  { name: 'pg', allowTypeImports: true, message: only('src/db (types are free)') },
  { name: 'pg-copy-streams', message: only('src/db') },
];
const HTTP = {
  group: [
    'express',
    'express-openapi-validator',
    'express-openapi-validator/**',
    'multer',
    'helmet',
    'swagger-ui-express',
  ],
  message: only('the API/HTTP layers and the composition root'),
};
const UPWARD = {
  group: ['**/api/**', '**/http/**', '**/ui/**', '**/app/**', '**/server'],
  message: 'the API/HTTP layers and the composition root are above this layer',
};
const REPOSITORIES = {
  group: ['**/db/*-repository', '**/db/tables', '**/db/instance-*'],
  message: 'API layers reach the database through services',
};
const DOMAIN_FOLDERS = {
  group: DOMAIN.map((d) => `**/${d}/**`),
  message: 'src/db knows no domain folder: repositories take and return plain records',
};
const restrict = (...entries) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: entries.filter((e) => 'name' in e),
      patterns: entries.filter((e) => 'group' in e),
    },
  ],
});
const LAYERED = ['src/api/**', 'src/http/**', 'src/ui/**', 'src/app/**', 'src/server.ts'];
const importRules = [
  {
    // Domain folders and the shared utilities.
    files: ['src/**/*.ts'],
    ignores: [...LAYERED, 'src/db/**', 'src/matrix/**', 'src/plugins/host/**'],
    rules: restrict(SDK, ...DB_DRIVERS, HTTP, UPWARD),
  },
  {
    // Bundled into the plugin host process on its own: only the protocol it speaks is shared.
    files: ['src/plugins/host/**/*.ts'],
    rules: restrict(SDK, ...DB_DRIVERS, HTTP, UPWARD, {
      group: [
        '../*',
        '!../runtime',
        '../runtime/*',
        '!../runtime/host-protocol',
        '!../runtime/rate-limit',
      ],
      message: 'the plugin host is one bundle: it imports only the host protocol and rate limit',
    }),
  },
  {
    files: ['src/api/**/*.ts', 'src/http/**/*.ts', 'src/ui/**/*.ts'],
    rules: restrict(SDK, ...DB_DRIVERS, REPOSITORIES),
  },
  { files: ['src/app/**/*.ts', 'src/server.ts'], rules: restrict(SDK, ...DB_DRIVERS) },
  { files: ['src/db/**/*.ts'], rules: restrict(SDK, HTTP, UPWARD, DOMAIN_FOLDERS) },
  { files: ['src/matrix/**/*.ts'], rules: restrict(...DB_DRIVERS, HTTP, UPWARD, DOMAIN_FOLDERS) },
  {
    // testing/ is what tests and the benchmark share, so it may not lean on test/ either.
    files: ['bench/**/*.ts', 'testing/**/*.ts'],
    rules: restrict({
      group: ['**/test/**', '**/test'],
      message:
        'the benchmark and testing/ import nothing from test/ (what both need lives in testing/)',
    }),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'generated/', 'node_modules/', 'data/', 'coverage/', 'plugins/*/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'testing/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // supertest bodies are `any` by design; tests assert their shape.
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  ...importRules,
  { files: ['**/*.mjs', '**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  // Type-checked against the built declarations (npm run check:client), which need a build.
  { files: ['scripts/check-client/**'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['jest.config.js', 'test/helpers/summary-reporter.js', 'scripts/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        module: 'writable',
        process: 'readonly',
        require: 'readonly',
        console: 'readonly',
      },
    },
  },
);
