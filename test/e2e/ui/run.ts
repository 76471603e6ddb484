/**
 * Runs the UI tests: builds the renderer, then runs every *.spec.ts of this folder (one after the
 * other: the machine is small) with node:test's spec reporter and closes with `N passed, N failed`.
 * Exits non-zero when anything failed.
 *
 *   node_modules/.bin/node test/e2e/ui/run.ts
 */
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildRenderer } from './buildRenderer.ts';

await buildRenderer();
process.env.QUIVER_UI_BUILT = '1';

let passed = 0;
let failed = 0;
const here = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(here)
  .filter((name) => name.endsWith('.spec.ts'))
  .sort()
  .map((name) => `${here}${name}`);
const stream = run({ files, concurrency: 1, timeout: 120_000 });
stream.on('test:pass', (event) => {
  if (event.details.type !== 'suite') passed++;
});
stream.on('test:fail', (event) => {
  if (event.details.type !== 'suite') failed++;
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
await new Promise<void>((resolve) => report.on('end', () => resolve()));
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
