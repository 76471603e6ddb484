// Lint: the TypeScript rules that catch real mistakes, the house rules (no empty catch, no focused
// or skipped tests), and the walls of the pure areas. Svelte files are checked by svelte-check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const NO_FOCUSED_TESTS = [
  { object: 'test', property: 'only', message: 'No focused tests.' },
  { object: 'it', property: 'only', message: 'No focused tests.' },
  { object: 'describe', property: 'only', message: 'No focused tests.' },
];

/**
 * The pure areas: state machines and logic that take bytes and `now` and return bytes, events and
 * deadlines (STYLE.md, "Sans-IO where it counts"). app/tsconfig.pure.json and app/contract's
 * tsconfig say the same to the compiler; test/unit/walls.test.ts proves both walls hold.
 */
export const PURE_AREAS = [
  'app/contract/**/*.ts',
  'app/xmpp/**/*.ts',
  'app/quic/**/*.ts',
  'app/security/**/*.ts',
  'app/transport/tlsFacts.ts',
];
/** Only drivers own sockets, files, processes, timers and clocks. */
export const DRIVERS = ['app/quic/driver/**', 'app/security/driver/**'];

/** Node's modules that reach the network, the disk, processes, timers, clocks or the runtime itself. */
const IO_MODULES = [
  'net',
  'dgram',
  'tls',
  'fs',
  'fs/promises',
  'child_process',
  'os',
  'dns',
  'dns/promises',
  'http',
  'https',
  'http2',
  'timers',
  'timers/promises',
  'perf_hooks',
  'worker_threads',
  'cluster',
  'process',
  'vm',
  'inspector',
  'readline',
];
const restrictedModules = IO_MODULES.flatMap((name) => [name, `node:${name}`]).map((name) => ({
  name,
  message: 'Pure code does no I/O and keeps no timers: take bytes and `now` from a driver (app/*/driver/).',
}));
const TIMER_MESSAGE = 'Pure code keeps no timers: return a deadline and let the driver arm it.';
const CLOCK_MESSAGE = 'Pure code reads no clock: take `now` from the caller.';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', '.tsbuild/', 'test-results/', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-properties': ['error', ...NO_FOCUSED_TESTS],
    },
  },
  {
    files: PURE_AREAS,
    ignores: DRIVERS,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: restrictedModules,
          patterns: [
            { group: ['**/driver/*'], message: 'Pure code never imports a driver; the driver imports it.' },
            {
              group: [
                '**/connect/*',
                '**/storage/*',
                '**/cli/*',
                '**/host/*',
                '**/core.ts',
                '**/core/*',
                '**/coreError.ts',
                '**/dataDir.ts',
                '**/main/*',
              ],
              message: 'Pure code sits below the connection manager, storage and the hosts: pass what it needs in.',
            },
            {
              group: ['**/transport/*', '!**/transport/tlsFacts.ts'],
              message: 'Of transport/, pure code sees only the TlsFacts types; the adapters own sockets.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].map(
          (name) => ({ name, message: TIMER_MESSAGE }),
        ),
        { name: 'performance', message: CLOCK_MESSAGE },
        { name: 'process', message: 'Pure code does not reach into the process: pass what it needs in.' },
      ],
      'no-restricted-properties': [
        'error',
        ...NO_FOCUSED_TESTS,
        { object: 'Date', property: 'now', message: CLOCK_MESSAGE },
        { object: 'performance', property: 'now', message: CLOCK_MESSAGE },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: CLOCK_MESSAGE },
        { selector: "CallExpression[callee.name='Date']", message: CLOCK_MESSAGE },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // It names the few files of @types/node the pure areas may see; nothing else can say that.
    files: ['app/pureEnvironment.d.ts'],
    rules: { '@typescript-eslint/triple-slash-reference': 'off' },
  },
  {
    files: ['main/preload.cts', 'bin/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
