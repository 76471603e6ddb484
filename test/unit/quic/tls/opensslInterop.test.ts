/**
 * Interop with an independent TLS 1.3 implementation: OpenSSL's `s_server` over loopback TCP.
 * QUIC has no record layer, so this test carries the handshake in TLS records itself (RFC 8446bis
 * §5.2). OpenSSL 3.0 knows no quic_transport_parameters, so, as RFC 9001 §8.2 demands, our client
 * stops at EncryptedExtensions with missing_extension (109). Before that it has had OpenSSL accept
 * its ClientHello (and ClientHello2 after a HelloRetryRequest), parsed OpenSSL's ServerHello and
 * derived Handshake keys that decrypt OpenSSL's records. The rest of the handshake is then checked
 * with our key schedule and signature modules: OpenSSL's CertificateVerify and Finished verify,
 * OpenSSL accepts our Finished, and its NewSessionTicket decrypts under our 1-RTT secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createCipheriv, createDecipheriv, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cipherSuiteById, type CipherSuiteInfo } from '../../../../app/quic/tls/cipherSuites.ts';
import { decodeServerKeyShare, Ext } from '../../../../app/quic/tls/extensions.ts';
import {
  KeySchedule,
  finishedVerifyData,
  hkdfExpandLabel,
  transcriptHash,
} from '../../../../app/quic/tls/keySchedule.ts';
import { KeyShare } from '../../../../app/quic/tls/keyShare.ts';
import {
  decodeCertificate,
  decodeCertificateVerify,
  decodeServerHello,
  encodeFinished,
} from '../../../../app/quic/tls/messages.ts';
import {
  certificateVerifyContent,
  SUPPORTED_SIGNATURE_SCHEMES,
  verifyCertificateVerify,
} from '../../../../app/quic/tls/signatures.ts';
import { TlsHandshake, type TlsEvent } from '../../../../app/quic/tls/tlsHandshake.ts';
import { clientConfig, makeCert, seededRandom } from './tlsTestSupport.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** Starts `openssl s_server` for one connection; resolves with its port once it prints ACCEPT. */
async function startServer(dir: string, args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-naccept',
      '1',
      '-tls1_3',
      '-alpn',
      'xmpp-client',
      '-cert',
      join(dir, 'cert.pem'),
      '-key',
      join(dir, 'key.pem'),
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ACCEPT .*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`s_server exited (${code}): ${out}`)));
  });
  return { proc, port };
}

/** TLS records over a socket: 5-byte header, then the fragment (§5.1). */
class RecordStream {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private closed = false;
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  async read(): Promise<{ type: number; header: Buffer; body: Buffer } | null> {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readUInt16BE(3);
        if (this.buf.length >= 5 + len) {
          const header = this.buf.subarray(0, 5);
          const body = this.buf.subarray(5, 5 + len);
          this.buf = this.buf.subarray(5 + len);
          return { type: header[0] as number, header, body };
        }
      }
      if (this.closed) return null;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = null;
    }
  }
  write(type: number, body: Uint8Array): void {
    const h = Buffer.from([type, 3, 3, body.length >> 8, body.length & 0xff]);
    this.socket.write(Buffer.concat([h, body]));
  }
}

/** §5.3/§5.2 record protection with one traffic secret. */
class RecordKeys {
  private readonly key: Uint8Array;
  private readonly iv: Uint8Array;
  private seq = 0n;
  private readonly suite: CipherSuiteInfo;
  constructor(suite: CipherSuiteInfo, secret: Uint8Array) {
    this.suite = suite;
    this.key = hkdfExpandLabel(suite.hash, secret, 'key', new Uint8Array(0), suite.keyLength);
    this.iv = hkdfExpandLabel(suite.hash, secret, 'iv', new Uint8Array(0), 12);
  }
  private nonce(): Buffer {
    const n = Buffer.from(this.iv);
    const s = Buffer.alloc(8);
    s.writeBigUInt64BE(this.seq++);
    for (let i = 0; i < 8; i++) n[4 + i] = (n[4 + i] as number) ^ (s[i] as number);
    return n;
  }
  open(header: Buffer, body: Buffer): { type: number; content: Buffer } {
    const d = createDecipheriv(this.suite.aead, this.key, this.nonce(), { authTagLength: 16 } as never) as ReturnType<
      typeof createDecipheriv
    > & { setAAD(b: Buffer): void; setAuthTag(b: Buffer): void };
    d.setAAD(header);
    d.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    return { type: plain[end] as number, content: plain.subarray(0, end) };
  }
  seal(type: number, content: Uint8Array): Buffer {
    const inner = Buffer.concat([content, Buffer.from([type])]);
    const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff]);
    const c = createCipheriv(this.suite.aead, this.key, this.nonce(), { authTagLength: 16 } as never) as ReturnType<
      typeof createCipheriv
    > & { setAAD(b: Buffer): void; getAuthTag(): Buffer };
    c.setAAD(header);
    return Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
  }
}

function splitMessages(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 4 <= bytes.length;) {
    const len = bytes.readUIntBE(off + 1, 3);
    out.push(bytes.subarray(off, off + 4 + len));
    off += 4 + len;
  }
  return out;
}

function drain(h: TlsHandshake): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = h.pollEvent(); e !== undefined; e = h.pollEvent()) out.push(e);
  return out;
}

async function runAgainstOpenssl(opts: {
  suite: number;
  serverArgs: string[];
  deepCheck: boolean;
  kind?: 'p256' | 'rsa' | 'ed25519';
}): Promise<{ retried: boolean; scheme: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-tls-'));
  const cert = await makeCert(opts.kind ?? 'p256');
  writeFileSync(
    join(dir, 'cert.pem'),
    `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert.chain[0] as Uint8Array)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`,
  );
  writeFileSync(join(dir, 'key.pem'), cert.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const { proc, port } = await startServer(dir, opts.serverArgs);
  const socket = connect(port, '127.0.0.1');
  try {
    await new Promise<void>((r, j) => {
      socket.once('connect', r);
      socket.once('error', j);
    });
    const rs = new RecordStream(socket);
    const seed = `openssl-${opts.suite}`;
    const client = new TlsHandshake(clientConfig({ cipherSuites: [opts.suite], randomBytes: seededRandom(seed) }));
    client.start();
    const ch = client.pollOutput() as { epoch: string; data: Uint8Array };
    rs.write(22, ch.data);
    const plainHandshake: Buffer[] = [Buffer.from(ch.data)];
    const protection: { read: RecordKeys | null } = { read: null };
    let suite: CipherSuiteInfo | null = null;
    let retried = false;
    let clientError: number | null = null;
    const encrypted: Buffer[] = [];
    while (!encrypted.some((m) => m[0] === 20)) {
      const rec = await rs.read();
      assert.ok(rec, 'OpenSSL closed the connection early (it refused our ClientHello?)');
      if (rec.type === 21) assert.fail(`OpenSSL sent alert ${rec.body[1]}`);
      if (rec.type === 20) continue; // change_cipher_spec, TCP middlebox compatibility only
      if (rec.type === 22) {
        plainHandshake.push(rec.body);
        if (decodeServerHello(rec.body.subarray(4)).isHelloRetryRequest) retried = true;
        client.handleCrypto('initial', rec.body);
        for (let o = client.pollOutput(); o !== undefined; o = client.pollOutput()) {
          assert.equal(o.epoch, 'initial');
          rs.write(22, o.data); // ClientHello2
          plainHandshake.push(Buffer.from(o.data));
        }
      } else {
        const keys = protection.read;
        if (keys === null) assert.fail('a protected record before the ServerHello');
        const { type, content }: { type: number; content: Buffer } = keys.open(rec.header, rec.body);
        assert.equal(type, 22);
        encrypted.push(...splitMessages(content));
        if (clientError === null) client.handleCrypto('handshake', content);
      }
      for (const e of drain(client)) {
        if (e.type === 'keys' && e.epoch === 'handshake' && e.direction === 'read') {
          suite = e.suite;
          protection.read = new RecordKeys(e.suite, e.secret);
        }
        if (e.type === 'error') clientError = e.alert;
      }
    }
    // RFC 9001 §8.2: a TLS peer without quic_transport_parameters is refused with missing_extension.
    assert.equal(clientError, 109);
    assert.ok(suite);
    assert.equal(suite.id, opts.suite);
    const [ee, certMsg, cv, fin] = encrypted as [Buffer, Buffer, Buffer, Buffer];
    assert.deepEqual(
      encrypted.map((m) => m[0]),
      [8, 11, 15, 20],
    );
    assert.ok(ee);
    let scheme: number | null = null;
    if (opts.deepCheck) {
      // Re-derive the secrets from the same seeded randomness (client random, then key share).
      const r = seededRandom(seed);
      r(32);
      const share = KeyShare.generate('x25519', r);
      const sh = plainHandshake[1] as Buffer;
      const ks = new KeySchedule(suite.hash, null);
      ks.setSharedSecret(
        share.computeSecret(
          decodeServerKeyShare(decodeServerHello(sh.subarray(4)).extensions.get(Ext.key_share) as Uint8Array)
            .keyExchange,
        ),
      );
      const th = (msgs: Buffer[]) => transcriptHash(suite.hash, msgs);
      const hs = ks.handshakeTrafficSecrets(th(plainHandshake));
      const leaf = new Uint8Array(decodeCertificate(certMsg.subarray(4)).chain[0] as Uint8Array);
      assert.deepEqual(leaf, cert.chain[0]);
      const cvd = decodeCertificateVerify(cv.subarray(4));
      scheme = cvd.scheme;
      verifyCertificateVerify(
        cvd.scheme,
        SUPPORTED_SIGNATURE_SCHEMES,
        createPublicKey(cert.privateKey),
        certificateVerifyContent('server', th([...plainHandshake, ee, certMsg])),
        cvd.signature,
      );
      assert.deepEqual(
        new Uint8Array(fin.subarray(4)),
        finishedVerifyData(suite.hash, hs.server, th([...plainHandshake, ee, certMsg, cv])),
      );
      const all = [...plainHandshake, ee, certMsg, cv, fin];
      const app = ks.applicationTrafficSecrets(th(all));
      const clientFin = encodeFinished(finishedVerifyData(suite.hash, hs.client, th(all)));
      rs.write(23, new RecordKeys(suite, hs.client).seal(22, clientFin));
      // OpenSSL sends its session tickets once it has checked our Finished.
      const appKeys = new RecordKeys(suite, app.server);
      const rec = await rs.read();
      assert.ok(rec && rec.type === 23, 'OpenSSL accepted our Finished');
      const nst = appKeys.open(rec.header, rec.body);
      assert.equal(nst.type, 22);
      assert.equal(nst.content[0], 4, 'a NewSessionTicket, decrypted with our server application secret');
    }
    return { retried, scheme };
  } finally {
    socket.destroy();
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = hasOpenssl ? false : 'openssl is not installed';

for (const id of [0x1301, 0x1302, 0x1303]) {
  test(
    `OpenSSL s_server, ${cipherSuiteById(id)?.name}: ClientHello accepted, keys agree, Finished both ways`,
    { skip, timeout: 15000 },
    async () => {
      const r = await runAgainstOpenssl({
        suite: id,
        serverArgs: ['-ciphersuites', cipherSuiteById(id)?.name as string, '-groups', 'X25519'],
        deepCheck: true,
      });
      assert.equal(r.retried, false);
      assert.equal(r.scheme, 0x0403);
    },
  );
}

test(
  'OpenSSL s_server with an Ed25519 and an RSA certificate: CertificateVerify checks',
  { skip, timeout: 15000 },
  async () => {
    assert.equal(
      (await runAgainstOpenssl({ suite: 0x1301, serverArgs: ['-groups', 'X25519'], deepCheck: true, kind: 'ed25519' }))
        .scheme,
      0x0807,
    );
    assert.equal(
      (await runAgainstOpenssl({ suite: 0x1301, serverArgs: ['-groups', 'X25519'], deepCheck: true, kind: 'rsa' }))
        .scheme,
      0x0804,
    );
  },
);

test(
  'OpenSSL s_server that wants P-256: our client follows its HelloRetryRequest',
  { skip, timeout: 15000 },
  async () => {
    const r = await runAgainstOpenssl({ suite: 0x1301, serverArgs: ['-groups', 'P-256'], deepCheck: false });
    assert.equal(r.retried, true);
  },
);
