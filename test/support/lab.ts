import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { LabGatewayCertificate, LabState } from '../lab/lab.ts';
import { LabError } from '../lab/labError.ts';
import type { GatewayCertificate } from '../../app/gateway/certificateSelector.ts';
import type { QuicGatewayOptions } from '../../app/gateway/quicGateway.ts';

export type { LabGatewayCertificate, LabQuicScenario, LabScenario, LabState } from '../lab/lab.ts';

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
    typeof v.prosody13?.tlsPort === 'number' &&
    typeof v.users === 'object' &&
    typeof v.domains?.alpha === 'string'
  );
}

/** A lab gateway certificate (`lab.gateway.certificates`, `lab.gateway.shared`) as `QuicGateway` takes it. */
export function labGatewayCertificate(certificate: LabGatewayCertificate): GatewayCertificate {
  try {
    return {
      certificateChain: [new Uint8Array(new X509Certificate(readFileSync(certificate.certFile)).raw)],
      privateKey: createPrivateKey(readFileSync(certificate.keyFile, 'utf8')),
    };
  } catch (err) {
    throw new LabError(
      'bad-state',
      `the lab's ${certificate.name} certificate cannot be read from ${certificate.certFile} and ${certificate.keyFile}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * What a test's own `QuicGateway` needs to stand in for the lab's: the backend (the TLS Prosody's
 * plaintext loopback port) and the lab gateway's certificates in its order. The test adds
 * `listen` (127.0.0.1, port 0), `limits` and `log`, and MUST close it:
 *
 *     const gw = await QuicGateway.start({ listen: { address: '127.0.0.1', port: 0 },
 *       ...labGatewayOptions(lab), limits: { maxStreamsPerConnection: 1 }, log: () => {} });
 */
export function labGatewayOptions(
  lab: LabState,
): Pick<QuicGatewayOptions, 'forward' | 'certificateChain' | 'privateKey' | 'moreCertificates'> {
  const [first, ...more] = lab.gateway.certificates.map(labGatewayCertificate);
  if (!first) throw new LabError('bad-state', 'lab.json lists no gateway certificate');
  return {
    forward: { host: '127.0.0.1', port: lab.gateway.backendPort },
    ...first,
    moreCertificates: more,
  };
}
