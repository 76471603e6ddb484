/**
 * `npm test`: everything a change must pass, in the order that fails fastest.
 *   1. Debian packages the lab and the browser tests need (installed when root, else listed).
 *   2. Type-check (every tsconfig project, and svelte-check), lint, and the Prettier format check.
 *   3. Unit tests (pure modules, fake clocks, no servers).
 *   4. The renderer build, then integration and e2e tests against the lab (real Prosody, DNS).
 * Each step prints its own output; the last line sums up the node:test counts of every step.
 */
import { spawnSync } from 'node:child_process';
import { ensureDebianPackages, LAB_PACKAGES } from './ensureDebianPackages.ts';

const node = process.execPath;
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(title: string, command: string, args: string[], options: { count?: boolean } = {}): void {
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, {
    stdio: options.count ? ['inherit', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (options.count && result.stdout) {
    process.stdout.write(result.stdout);
    // node:test's closing summary: "ℹ pass N" / "ℹ fail N" / "ℹ skipped N".
    for (const [key, field] of [
      ['pass', 'passed'],
      ['fail', 'failed'],
      ['skipped', 'skipped'],
    ] as const) {
      const match = result.stdout.match(new RegExp(`^ℹ ${key} (\\d+)$`, 'm'));
      if (match) totals[field] += Number(match[1]);
    }
  }
  if (result.status !== 0) {
    console.error(`\n${title} failed (exit ${result.status ?? result.signal}).`);
    summary();
    process.exit(1);
  }
}

function summary(): void {
  console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
}

await ensureDebianPackages(LAB_PACKAGES);
run('type-check', node, ['node_modules/typescript/bin/tsc', '-b']);
run('svelte-check', node, [
  'node_modules/svelte-check/bin/svelte-check',
  '--tsconfig',
  'renderer/tsconfig.json',
  '--fail-on-warnings',
  '--output',
  'human',
]);
run('lint', node, ['node_modules/eslint/bin/eslint.js', '.']);
run('format (Prettier)', node, ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.']);
run(
  'unit tests',
  node,
  ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', 'test/unit/**/*.test.ts'],
  { count: true },
);
run('renderer build', node, [
  'node_modules/vite/bin/vite.js',
  'build',
  '--config',
  'renderer/vite.config.ts',
  '--logLevel',
  'warn',
]);
process.env.QUIVER_UI_BUILT = '1';
run(
  'UI tests (Chromium, the real browser host over a fake core)',
  node,
  ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', 'test/e2e/ui/*.spec.ts'],
  { count: true },
);
run(
  'integration and end-to-end tests (lab: Prosody, nsd, unbound)',
  node,
  [
    'scripts/withLab.ts',
    node,
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    'test/integration/**/*.test.ts',
    'test/e2e/*.spec.ts',
  ],
  { count: true },
);
summary();
