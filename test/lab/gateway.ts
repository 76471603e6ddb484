import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { QuicGateway } from '../../app/gateway/quicGateway.ts';
import { formatGatewayRecord } from '../../app/gateway/gatewayLog.ts';
import type { GatewayCertificate } from '../../app/gateway/certificateSelector.ts';
import type { LabCertificate } from './ca.ts';
import type { LabPorts } from './ports.ts';
import { LabError } from './labError.ts';

export interface LabGateway {
  readonly gateway: QuicGateway;
  /** One JSON line per gateway record (`gatewayLog.ts`). */
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `quiver gateway` in this process (the same `QuicGateway` the CLI runs): QUIC with ALPN
 * `xmpp-client` on UDP 127.0.0.1:`ports.quicGateway`, each stream forwarded to the TLS Prosody's
 * plaintext port `ports.gatewayBackend`; with `backend: 'prosody13'` the second gateway, on
 * `ports.prosody13QuicGateway`, forwarding to Prosody 13's plaintext port
 * `ports.prosody13GatewayBackend`, logging to `gateway13.log`. It holds `certificates` (leaf only
 * each, as `quiver gateway --cert A --key A --cert B --key B ...`): a client gets the first whose
 * DNS-IDs name its SNI, else the first. The caller MUST call `stop()`, which closes every QUIC
 * connection and backend connection.
 */
export async function startLabGateway(opts: {
  labDir: string;
  ports: LabPorts;
  certificates: readonly [LabCertificate, ...LabCertificate[]];
  /** Default 'prosody' (the TLS Prosody 0.12). */
  backend?: 'prosody' | 'prosody13';
}): Promise<LabGateway> {
  const modern = opts.backend === 'prosody13';
  const logFile = join(opts.labDir, modern ? 'gateway13.log' : 'gateway.log');
  const [first, ...more] = await Promise.all(opts.certificates.map(readGatewayCertificate));
  const gateway = await QuicGateway.start({
    listen: { address: '127.0.0.1', port: modern ? opts.ports.prosody13QuicGateway : opts.ports.quicGateway },
    forward: { host: '127.0.0.1', port: modern ? opts.ports.prosody13GatewayBackend : opts.ports.gatewayBackend },
    ...first!,
    moreCertificates: more,
    // Short enough that a test's abandoned connection ends soon, long enough for a slow machine.
    limits: { idleTimeoutMs: 15_000 },
    // Tickets and 0-RTT, as Quiver's clients use them: a second login resumes and sends its
    // stream header early (test/integration/connectQuic.test.ts).
    earlyData: true,
    log: (record) => appendFileSync(logFile, formatGatewayRecord(record, true) + '\n'),
    verbose: true,
  });
  return { gateway, logFile, stop: () => gateway.close() };
}

/** A lab certificate as the gateway takes it: the leaf's DER and its private key. */
export async function readGatewayCertificate(certificate: LabCertificate): Promise<GatewayCertificate> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(certificate.keyFile, 'utf8'));
  } catch (error) {
    throw new LabError(
      'server-error',
      `lab: the gateway cannot read the key ${certificate.keyFile}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { certificateChain: [new Uint8Array(new X509Certificate(certificate.pem).raw)], privateKey };
}
