/**
 * `quiver` against the lab, from an integration test file: a data directory of the file's own
 * (made before its tests, removed after them) and the options that point `quiver` at the lab's
 * resolver and CA and at that directory. Call at the top level of the test file.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabState } from './lab.ts';

/** Returns the options (`--resolver`, `--ca`, `--data-dir`); valid once the tests have started. */
export function labCliOptions(lab: LabState, prefix: string): () => string[] {
  let dataDir: string | undefined;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!dataDir)
      throw new Error('labCliOptions: the data directory is made before the first test; call it from a test');
    return ['--resolver', lab.resolver, '--ca', lab.caFile, '--data-dir', dataDir];
  };
}
