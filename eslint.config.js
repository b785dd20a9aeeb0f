// ESLint with typescript-eslint's type-aware rules over src/ and test/; the
// scripts are plain JavaScript. Formatting is Prettier's (npm run lint checks both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'templates/', 'overlays/', 'coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Template literals with numbers and the like read well in messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `void promise` marks a promise devkit lets run on purpose.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `() => resolve()` and `onExit: (code) => exit(code)` are clear as they are.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // An async function without await is how a command's run or a step keeps the one Promise-returning shape.
      '@typescript-eslint/require-await': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    // No line over 140 characters in devkit's own code (Prettier keeps code to it; this catches comments and strings).
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 140, ignoreUrls: false }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests assert on parsed JSON of devkit's output, typed where it is read.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // vitest's asymmetric matchers (expect.stringMatching) are typed any.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // A fixture set in beforeAll is typed as set; teardown still checks, for a set-up that failed half way.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['bin/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { process: 'readonly', require: 'readonly', __dirname: 'readonly' } },
  },
  {
    // Injected into the CommonJS bundles: it runs where CommonJS's require and __filename exist.
    files: ['scripts/cjs-import-meta.js'],
    languageOptions: { globals: { require: 'readonly', __filename: 'readonly' } },
  },
  {
    files: ['scripts/**/*.mjs', 'test/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
  },
);
