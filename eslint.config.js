// Lint: the recommended rules of ESLint and typescript-eslint, plus type-aware rules that catch real
// bugs in a service full of promises: a promise nobody awaits or catches, a promise where a boolean
// or a void callback was meant, an await of something that is not a promise, a switch that misses
// a case of its union, a thrown non-Error, an object printed as [object Object].
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'vws-data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() returns a promise the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A getter in an object literal reaches its owner as `self`; any other alias of this is a slip.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      'no-return-await': 'off',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  {
    // The core is deterministic: time and randomness come in as arguments.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/core takes the time as an argument (determinism)' },
        { object: 'Math', property: 'random', message: 'src/core takes randomness from a seed passed in (determinism)' },
      ],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/core does no I/O and reads no environment' },
        { name: 'setTimeout', message: 'src/core is driven by the clocks above it, never by timers' },
        { name: 'setInterval', message: 'src/core is driven by the clocks above it, never by timers' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core takes the time as an argument (determinism)' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly', URL: 'readonly' },
    },
  },
);
