import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { QuicGateway } from '../../app/gateway/quicGateway.ts';
import { formatGatewayRecord } from '../../app/gateway/gatewayLog.ts';
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
 * `xmpp-client` on UDP 127.0.0.1:`ports.quicGateway`, presenting `certificate` (leaf only, from the
 * lab CA), each stream forwarded to the TLS Prosody's plaintext port `ports.gatewayBackend`.
 * The caller MUST call `stop()`, which closes every QUIC connection and backend connection.
 */
export async function startLabGateway(opts: {
  labDir: string;
  ports: LabPorts;
  certificate: LabCertificate;
}): Promise<LabGateway> {
  const logFile = join(opts.labDir, 'gateway.log');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(opts.certificate.keyFile, 'utf8'));
  } catch (error) {
    throw new LabError('server-error', `lab: the gateway cannot read its key: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const gateway = await QuicGateway.start({
    listen: { address: '127.0.0.1', port: opts.ports.quicGateway },
    forward: { host: '127.0.0.1', port: opts.ports.gatewayBackend },
    certificateChain: [new Uint8Array(new X509Certificate(opts.certificate.pem).raw)],
    privateKey,
    // Short enough that a test's abandoned connection ends soon, long enough for a slow machine.
    limits: { idleTimeoutMs: 15_000 },
    log: (record) => appendFileSync(logFile, formatGatewayRecord(record, true) + '\n'),
    verbose: true,
  });
  return { gateway, logFile, stop: () => gateway.close() };
}
