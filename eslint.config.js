// ESLint (flat config) for the TypeScript sources, tests, benchmarks and tool configs. Type-aware
// rules catch what the compiler does not: promises nobody awaits or handles (a failed mint or audit
// write that vanishes), promises passed where a callback's result is ignored, `await` on non-promises,
// unused code. Formatting is Prettier's job (`npm run format`), never ESLint's: no style rules here.
// Type information comes from tsconfig.typecheck.json, the project `npm run typecheck` checks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Generated or installed: the ncc bundles, tsc output, tool caches.
    ignores: ['dist/', 'build/', 'node_modules/', '.opa/', '.venv-schemathesis/', '.schemathesis/', 'coverage/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: './tsconfig.typecheck.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names are deliberately unused (a parameter a signature demands, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Type-only imports say so (`import { type X }`), so nothing is loaded for a type. A lazily
      // loaded optional module may still be typed as `typeof import('…')`.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    // Tests dig into JSON bodies of any shape and assert on them: a wrong shape fails the assertion,
    // so `any` there is deliberate.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // action/run.ts rethrows the runner's OIDC error as a new Error without `cause`. Fixing it changes
    // the committed bundle in dist/, which only the Action's own change may rebuild; until that change
    // lands the rule is off for this one file. TODO(action): add `{ cause: err }` and drop this block.
    files: ['action/run.ts'],
    rules: { 'preserve-caught-error': 'off' },
  },
  {
    // Refusing control characters in untrusted text (log lines, signed notes, checkpoints) is done
    // with regular expressions that name them: here a control character in a regex is the point.
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Plain JavaScript (the bin launcher, scripts, examples, this file): Node globals, no type information.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
);
