import { readFileSync } from 'node:fs';
import type { LabState } from '../lab/lab.ts';
import { LabError } from '../lab/labError.ts';

export type { LabState } from '../lab/lab.ts';

/**
 * The running lab, for integration and e2e tests: reads the lab.json named by QUIVER_LAB, which
 * `node scripts/withLab.ts <command>` sets. Throws a LabError (`bad-state`) saying how to run the
 * tests when there is no lab.
 */
export function labFromEnv(): LabState {
  const file = process.env.QUIVER_LAB;
  if (!file) {
    throw new LabError(
      'bad-state',
      'QUIVER_LAB is not set: run integration tests through the lab, e.g. ' +
        '`node scripts/withLab.ts node --test test/integration/lab.test.ts` or `npm run test:integration`',
    );
  }
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LabError('bad-state', `QUIVER_LAB=${file} cannot be read as lab state: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!isLabState(state)) throw new LabError('bad-state', `QUIVER_LAB=${file} does not hold a lab state`);
  return state;
}

function isLabState(value: unknown): value is LabState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<LabState>;
  return (
    typeof v.dir === 'string' &&
    typeof v.caPem === 'string' &&
    typeof v.resolver === 'string' &&
    typeof v.prosody?.starttlsPort === 'number' &&
    typeof v.users === 'object' &&
    typeof v.domains?.alpha === 'string'
  );
}
