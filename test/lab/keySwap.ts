/**
 * `swap-key selfsigned` (control.ts): selfsigned.test gets a new self-signed key and certificate and
 * the TLS Prosody 0.12 presents it, as when a server's administrator replaces its key. An account
 * that pinned the old key then sees the key-change alert (draft-ietf-xmpp-dna-10 pins, issue 13's
 * end-to-end test: accept once, pin, then the swap).
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:tls';
import { once } from 'node:events';
import { reissueSelfSigned, type LabCa, type LabCertificate } from './ca.ts';
import type { ManagedProcess } from './managedProcess.ts';
import { PROSODY_USER } from './prosody.ts';
import { run } from './managedProcess.ts';
import { CERTIFICATES } from './scenarios.ts';
import { waitUntil } from './waitUntil.ts';

/** The lab domain whose key `swap-key selfsigned` replaces. */
export const SWAPPED_DOMAIN = 'selfsigned.test';

export interface KeySwapOptions {
  ca: LabCa;
  /** Restarts the TLS Prosody (prosody.ts `restartTls`): it reads its certificates at start. */
  restartProsody(): Promise<void>;
  /** The TLS Prosody process after the restart, for the wait's failure report. */
  prosody(): ManagedProcess;
  /** Prosody's direct TLS port (XEP-0368), where the presented key is checked. */
  tlsPort: number;
}

/**
 * Replaces selfsigned.test's key and resolves once Prosody presents the new one over direct TLS
 * (SNI selfsigned.test), with the new certificate's hashes.
 */
export async function swapSelfSignedKey(opts: KeySwapOptions): Promise<LabCertificate> {
  const spec = CERTIFICATES.find((c) => c.name === SWAPPED_DOMAIN);
  if (!spec) throw new TypeError(`lab: no certificate spec for ${SWAPPED_DOMAIN}`);
  const renewed = await reissueSelfSigned(opts.ca, spec);
  await run('chown', [`${PROSODY_USER}:${PROSODY_USER}`, renewed.keyFile], 'giving Prosody its new key');
  await opts.restartProsody();
  await waitUntil(
    `${SWAPPED_DOMAIN} presenting the new key (SPKI SHA-256 ${renewed.spkiSha256Hex}) on port ${opts.tlsPort}`,
    async () => (await presentedSpki(opts.tlsPort, SWAPPED_DOMAIN)) === renewed.spkiSha256Hex,
    { server: opts.prosody() },
  );
  return renewed;
}

/** SHA-256 (hex) of the SubjectPublicKeyInfo the server at 127.0.0.1:`port` presents for `sni`. */
async function presentedSpki(port: number, sni: string): Promise<string> {
  // Only the key is compared: the lab's self-signed certificate is trusted by nobody.
  const socket = connect({
    host: '127.0.0.1',
    port,
    servername: sni,
    ALPNProtocols: ['xmpp-client'],
    rejectUnauthorized: false,
  });
  socket.setTimeout(2_000, () => socket.destroy(new Error(`no TLS handshake with ${sni} within 2 s`)));
  try {
    await once(socket, 'secureConnect');
    const cert = socket.getPeerX509Certificate();
    if (!cert) return '';
    return createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex');
  } finally {
    socket.destroy();
  }
}
