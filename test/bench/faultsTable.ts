/**
 * `npm run bench`, issue 12's fault table: the count of messages lost, duplicated and reordered
 * in every fault run (kill -9 of the client mid-burst, Prosody 0.12 and 13 restarts, a 30 s cut,
 * 20% loss both ways, a network change, and the issue's `--expect 100` while Prosody restarts).
 *
 * The runs are the fault tests themselves (test/integration/faults.test.ts, real Prosody, real
 * network faults in namespaces): this table runs that file once against a lab of its own (a
 * private port base) and gathers the line each scenario prints. A scenario that failed prints no
 * line, or a line with losses; both show here. Needs root and the lab's packages, like the tests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { netnsSkipReason } from '../netns/requirements.ts';
import { formatTable } from './table.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Away from the default lab (25000), the tests' private bases and the namespace tables (29000). */
const PORT_BASE = '35000';
const TIMEOUT_MS = 15 * 60 * 1000;

/** One scenario's printed line, e.g. `fault cut-30s [alpha.test, 50 each way]: alice→bob lost 0, ...`. */
const LINE = /^fault (\S+) \[([^\]]+)\]: (.*)$/;

export async function faultsTable(): Promise<void> {
  const title = 'Messages lost / duplicated / reordered in each fault run (real Prosody, real faults)';
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`${title}: skipped, ${skip}.`);
    return;
  }
  const { lines, failed, code } = await runFaultTests();
  const rows = lines
    .map((l) => LINE.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!, m[3]!.replace(/ \(db: [^)]*\)/g, '')]);
  console.log(title);
  console.log(
    formatTable(['run', 'setting', 'lost, duplicated, reordered (each direction) and when the fault struck'], rows),
  );
  console.log(
    code === 0
      ? `All ${rows.length} runs passed their exactly-once checks (the tests' own assertions, the databases included).`
      : `The fault tests FAILED (exit ${code}): ${failed.length > 0 ? failed.join('; ') : 'see npm test'}.`,
  );
}

function runFaultTests(): Promise<{ lines: string[]; failed: string[]; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['scripts/withLab.ts', process.execPath, '--test', '--test-concurrency=1', 'test/integration/faults.test.ts'],
      { cwd: ROOT, env: { ...process.env, QUIVER_LAB_PORT_BASE: PORT_BASE }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const all = out.split('\n').map((l) => l.trim());
      // The test runner names each failed test once more after '✖ failing tests:'.
      const at = all.indexOf('✖ failing tests:');
      resolve({
        lines: all.filter((l) => l.startsWith('fault ')),
        failed:
          at < 0
            ? []
            : all
                .slice(at + 1)
                .filter((l) => l.startsWith('✖ '))
                .map((l) => l.slice(2)),
        code,
      });
    });
  });
}
