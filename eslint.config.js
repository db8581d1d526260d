// Lint with type information: promises nobody awaits, promises passed where a callback must not be
// async, unused code, and import cycles. Layering rules (which directory may import which) are in
// `import-x/no-restricted-paths` below; the same rules run as a unit test (test/unit/import-rules.test.ts).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'data/**', 'scripts/build-web.mjs', 'eslint.config.js'],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './web/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'web/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-unreachable': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src/http', from: ['./src/adapters', './src/ports', './src/wiring'], message: 'Routes see services only.' },
            { target: './src/services', from: ['./src/adapters', './src/http', './src/wiring'], message: 'Services depend on ports, not adapters.' },
            { target: './src/ports', from: ['./src/adapters', './src/services', './src/http', './src/wiring'], message: 'Ports are plain interfaces.' },
            { target: './src/domain', from: ['./src/adapters', './src/services', './src/http', './src/ports', './src/wiring'], message: 'The domain depends on nothing but itself.' },
            { target: './src/adapters', from: ['./src/services', './src/http', './src/wiring'], message: 'Adapters implement ports.' },
            { target: './src/lib', from: ['./src/adapters', './src/services', './src/http', './src/ports', './src/domain', './src/wiring', './src/config'], message: 'Generic helpers know nothing of Trove.' },
          ],
        },
      ],
    },
  },
);
