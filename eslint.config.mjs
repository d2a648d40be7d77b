// Lint: typed rules that catch real bugs (floating promises, misused promises),
// and the architecture's import boundaries (workflows/ and domain/ stay
// deterministic: no Node built-ins, no I/O clients).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'worker_threads',
  'zlib',
];
const IO_CLIENTS = ['pg', 'ioredis', 'stripe', 'nodemailer', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.state/', 'coverage/', 'bench/results/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false, properties: false } }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Typed tests and benches read JSON replies of many shapes; these rules would only add casts.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...NODE_BUILTINS, ...IO_CLIENTS].map((name) => ({
            name,
            message: 'workflows/ and domain/ are deterministic and bundled into the workflow sandbox: no Node built-ins or I/O clients.',
          })),
          patterns: [
            { group: ['node:*'], message: 'workflows/ and domain/ must not import Node built-ins.' },
            {
              group: ['**/db/**', '**/activities/**', '**/api/**', '**/platform/**', '**/services/**', '**/payments/**'],
              message: 'workflows/ and domain/ import only domain code (activities as types through workflows/).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // Activities are imported as types only, so no I/O code lands in the workflow bundle.
      'no-restricted-imports': [
        'error',
        {
          paths: [...NODE_BUILTINS, ...IO_CLIENTS].map((name) => ({
            name,
            message: 'workflows/ must stay deterministic: no Node built-ins or I/O clients.',
          })),
          patterns: [
            { group: ['node:*'], message: 'workflows/ must not import Node built-ins.' },
            {
              group: ['**/db/**', '**/api/**', '**/platform/**', '**/services/**', '**/payments/**'],
              message: 'workflows/ import domain code, and activities as types only.',
            },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'import activities as types only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['web/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  prettier,
);
