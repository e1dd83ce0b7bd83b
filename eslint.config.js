// @ts-check
// Lint: ESLint's and typescript-eslint's recommended rules, with type information (the tests are
// read with test/tsconfig.json). The ones that matter most here are no-floating-promises and
// no-misused-promises: a rejection that nobody handles can leave a VIP behind.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'tmp/', 'src/config/grammar.generated.ts', 'test/fixtures/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Every `any` here is deliberate (BlockSpec<any>, the keyword table's values); the no-unsafe-* rules still flag one that leaks into typed code.
      '@typescript-eslint/no-explicit-any': 'off',
      // An async function without await is how this code (and its test fakes) implements a Promise-returning interface.
      '@typescript-eslint/require-await': 'off',
      // The terminal report matches ANSI escapes and control characters on purpose.
      'no-control-regex': 'off',
      // `interface X extends Y {}` names a type for the API docs.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // `_x` is an unused parameter kept for its position; `{ span: _, ...rest }` drops a field.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Passing a caught value on as it came (`catch (e) { return Promise.reject(e); }`) makes up no non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Plain JavaScript (the benchmarks, this file): no type information, Node's globals.
    files: ['**/*.{js,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
