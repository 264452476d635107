// Lint rules, chiefly the import directions of ARCHITECTURE.md: core is shared, server and sync never
// import each other, the web app takes only types from the server's API schemas.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'test-results/**', '.tap/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/core/**'],
    rules: restrict([{ group: ['**/server/**', '**/sync/**', '**/web/**'], message: 'core is shared by server and sync: it imports neither.' }]),
  },
  {
    files: ['src/server/**'],
    rules: restrict([{ group: ['**/sync/**', '**/web/**'], message: 'the API never talks to mail servers: enqueue a job instead (ARCHITECTURE rule 2).' }]),
  },
  {
    files: ['src/sync/**'],
    rules: restrict([{ group: ['**/server/**', '**/web/**'], message: 'sync workers share only src/core with the server.' }]),
  },
  {
    files: ['src/web/**'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/core/**', '**/sync/**'], message: 'the web app only talks to the HTTP API.' },
          { group: ['**/server/**'], allowTypeImports: true, message: 'the web app imports only types from the server schemas.' },
        ],
      }],
    },
  },
);
