// Lint: the rules that catch what the compiler does not (STYLE.md rule 10): floating promises, import
// cycles, and hub/agent importing each other.
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/gen/**', 'node_modules/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      'import-x/no-cycle': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['../../agent/*', '../../hub/*', '**/hub/src/*', '**/agent/src/*'], message: 'hub and agent share only @outpost/proto' }] }],
    },
  },
  {
    files: ['agent/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@outpost/hub', message: 'the agent never imports the hub' }] }] },
  },
  {
    files: ['hub/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@outpost/agent', message: 'the hub never imports the agent' }] }] },
  },
  {
    // The CLI's client commands and the API client never load the server (DESIGN.md: "cli/ + client/
    // never load the server"): `hub init` and `hub serve` import it dynamically, which this rule allows.
    files: ['hub/src/cli/**/*.ts', 'hub/src/client/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '@outpost/agent', message: 'the hub never imports the agent' }],
        patterns: [{
          group: ['../hub.js', '../data-dir.js', '../hub-options.js', '../store/*', '../gateway/*', '../controllers/*', '../pki/*', '../auth/*', '../api/*', '!../api/resource-path.js', 'better-sqlite3', 'ws', 'pino', 'hono', 'hono/*', '@hono/*', '@peculiar/*'],
          message: 'the outpost client commands must not load the server; import it with await import() inside `hub init` / `hub serve`',
          allowTypeImports: true,
        }],
      }],
    },
  },
  {
    // Tests are leaves: nothing imports them, so a loose JSON type there leaks nowhere.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
