// Lint rules, chiefly the import directions of ARCHITECTURE.md: core is shared, server and sync never
// import each other, the web app takes only types from the server's API schemas, core's domain folders
// import only the ones before them, and SQL runs only in src/core.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

// Core's domains in dependency order: each may import only those before it. Entity files are the shared
// schema (relations cross domains by nature) and types create no runtime edge, so both are allowed anywhere.
const domains = ['platform', 'blobs', 'staff', 'mail', 'documents', 'log', 'crm', 'outbox', 'collaboration', 'ingest', 'ops'];
const domainRules = domains.map((domain, i) => {
  const later = domains.slice(i + 1);
  return {
    files: [`src/core/${domain}/**`],
    rules: restrict([
      { group: ['**/server/**', '**/sync/**', '**/web/**'], message: 'core is shared by server and sync: it imports neither.' },
      ...(later.length
        ? [{
            group: [...later.flatMap((d) => [`**/core/${d}/**`, `../${d}/**`]), '!**/*.entity.ts'],
            allowTypeImports: true,
            message: `core/${domain} may import only ${domains.slice(0, i).join(', ') || 'no other domain'} (and any *.entity.ts): see the domain order in eslint.config.js.`,
          }]
        : []),
    ]),
  };
});

// Running SQL is core's job (ARCHITECTURE rule 8): the shells call core functions.
const noSql = {
  'no-restricted-syntax': ['error',
    ...['execute', 'getKysely', 'getConnection', 'getKnex', 'createQueryBuilder', 'qb'].map((name) => ({
      selector: `CallExpression[callee.type='MemberExpression'][callee.property.name='${name}']`,
      message: `SQL runs only in src/core: call a core function instead of ${name}().`,
    })),
  ],
};

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
  ...domainRules,
  {
    // The composition root of the database: it registers every domain's entities.
    files: ['src/core/platform/db.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/server/**'],
    rules: {
      ...restrict([{ group: ['**/sync/**', '**/web/**'], message: 'the API never talks to mail servers: enqueue a job instead (ARCHITECTURE rule 2).' }]),
      ...noSql,
    },
  },
  {
    files: ['src/sync/**', 'src/main.ts'],
    rules: {
      ...restrict([{ group: ['**/server/**', '**/web/**'], message: 'sync workers share only src/core with the server.' }]),
      ...noSql,
    },
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
