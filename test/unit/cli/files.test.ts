import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { readPrivateFile } from '../../../app/cli/files.ts';
import { UsageError } from '../../../app/cli/args.ts';

function dir(t: { after(fn: () => void): void }): string {
  const path = mkdtempSync(join(tmpdir(), 'quiver-files-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

test('a 0600 password file is read; a group- or world-readable one is refused with the chmod to run', (t) => {
  const file = join(dir(t), 'pw');
  writeFileSync(file, 'secret\n', { mode: 0o600 });
  assert.equal(readPrivateFile(file), 'secret\n');
  chmodSync(file, 0o640);
  assert.throws(
    () => readPrivateFile(file),
    (e: unknown) => e instanceof UsageError && /mode 0640.*chmod 600/.test(e.message),
  );
  assert.throws(
    () => readPrivateFile(join(dir(t), 'missing')),
    (e: unknown) => e instanceof UsageError && /cannot read the password file/.test(e.message),
  );
});

test('the mode is checked on the descriptor that is read, not on the path (no stat-then-read race)', (t) => {
  const file = join(dir(t), 'pw');
  writeFileSync(file, 'secret', { mode: 0o644 });
  // The path is never stat'ed: a file swapped in after a path check cannot be the one read.
  const statOfPath = t.mock.method(fs, 'statSync', () => {
    throw new Error('statSync on the path must not be used');
  });
  syncBuiltinESMExports();
  try {
    assert.throws(
      () => readPrivateFile(file),
      (e: unknown) => e instanceof UsageError && /may be read by others/.test(e.message),
    );
  } finally {
    statOfPath.mock.restore();
    syncBuiltinESMExports();
  }
  assert.equal(statOfPath.mock.callCount(), 0);
});
