import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate, createHash } from 'node:crypto';
import { run } from './managedProcess.ts';
import type { CertificateSpec } from './scenarios.ts';

/** OIDs of the otherName forms (RFC 6120 §13.7.1.4, RFC 4985 §2). */
export const ID_ON_XMPPADDR = '1.3.6.1.5.5.7.8.5';
export const ID_ON_DNSSRV = '1.3.6.1.5.5.7.8.7';

/** One issued certificate: files plus the hashes DANE and POSH records are made of. */
export interface LabCertificate {
  /** PEM of the leaf only (what the server sends: no intermediate, even when it has one). */
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
  /** RFC 7711 §3.1 form: base64 of SHA-256 / SHA-512 over the whole DER certificate. */
  readonly derSha256Base64: string;
  readonly derSha512Base64: string;
  /** RFC 6698 §2.1: selector 1 (SubjectPublicKeyInfo), matching type 1 (SHA-256), hex. */
  readonly spkiSha256Hex: string;
}

export interface LabCa {
  readonly dir: string;
  /** The root CA: the trust anchor. */
  readonly caFile: string;
  readonly caPem: string;
  /** The intermediate CA under the root; never sent by any lab server. */
  readonly intermediateFile: string;
  readonly intermediatePem: string;
  /** certificate name -> files and hashes */
  readonly certs: ReadonlyMap<string, LabCertificate>;
}

const DAY_MS = 86_400_000;

/**
 * Creates a fresh private root CA and an intermediate CA in `<labDir>/ca` and issues one P-256
 * certificate per spec with the openssl CLI: by the root, the intermediate or self-signed, valid
 * for 30 days or already expired. Nothing here is ever reused across labs or committed.
 */
export async function createLabCa(labDir: string, specs: readonly CertificateSpec[]): Promise<LabCa> {
  const dir = join(labDir, 'ca');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const root = { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca.key') };
  const intermediate = { certFile: join(dir, 'intermediate.pem'), keyFile: join(dir, 'intermediate.key') };
  await writeFile(join(dir, 'ca.cnf'), caConfig('Quiver Lab Root CA', false));
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-config',
      join(dir, 'ca.cnf'),
      ...newKey(root.keyFile),
      '-out',
      root.certFile,
      '-days',
      '30',
      '-sha256',
    ],
    'creating the lab root CA',
  );
  await writeFile(join(dir, 'intermediate.cnf'), caConfig('Quiver Lab Intermediate CA', true));
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-config',
      join(dir, 'intermediate.cnf'),
      '-CA',
      root.certFile,
      '-CAkey',
      root.keyFile,
      ...newKey(intermediate.keyFile),
      '-out',
      intermediate.certFile,
      '-days',
      '30',
      '-sha256',
    ],
    'creating the lab intermediate CA',
  );

  const certs = new Map<string, LabCertificate>();
  await Promise.all(
    specs.map(async (spec) => {
      const certFile = join(dir, `${spec.name}.pem`);
      const keyFile = join(dir, `${spec.name}.key`);
      const conf = join(dir, `${spec.name}.cnf`);
      await writeFile(conf, leafConfig(spec));
      const issuer = spec.issuer === 'intermediate' ? intermediate : spec.issuer === 'self' ? undefined : root;
      if (spec.expired) {
        if (!issuer) throw new TypeError(`lab: ${spec.name}: an expired certificate needs a CA issuer`);
        await issueExpired(dir, spec, issuer, conf, certFile, keyFile);
      } else {
        const ca = issuer ? ['-CA', issuer.certFile, '-CAkey', issuer.keyFile] : [];
        await run(
          'openssl',
          [
            'req',
            '-x509',
            '-new',
            '-config',
            conf,
            ...ca,
            ...newKey(keyFile),
            '-out',
            certFile,
            '-days',
            '30',
            '-sha256',
          ],
          `issuing the ${spec.name} certificate`,
        );
      }
      certs.set(spec.name, { certFile, keyFile, ...certificateHashes(await readFile(certFile, 'utf8')) });
    }),
  );
  return {
    dir,
    caFile: root.certFile,
    caPem: await readFile(root.certFile, 'utf8'),
    intermediateFile: intermediate.certFile,
    intermediatePem: await readFile(intermediate.certFile, 'utf8'),
    certs,
  };
}

/**
 * Issues the self-signed certificate `spec` again with a fresh key, over the files `createLabCa`
 * wrote for it (same subject and names, another key): what a server's administrator does when
 * replacing its key. The server must then be made to read the files again.
 */
export async function reissueSelfSigned(ca: LabCa, spec: CertificateSpec): Promise<LabCertificate> {
  if (spec.issuer !== 'self') throw new TypeError(`lab: ${spec.name} is not self-signed`);
  const files = ca.certs.get(spec.name);
  if (!files) throw new TypeError(`lab: no certificate named ${spec.name} was issued`);
  const conf = join(ca.dir, `${spec.name}.cnf`);
  await writeFile(conf, leafConfig(spec));
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-config',
      conf,
      ...newKey(files.keyFile),
      '-out',
      files.certFile,
      '-days',
      '30',
      '-sha256',
    ],
    `issuing a new key and certificate for ${spec.name}`,
  );
  const renewed: LabCertificate = {
    certFile: files.certFile,
    keyFile: files.keyFile,
    ...certificateHashes(await readFile(files.certFile, 'utf8')),
  };
  (ca.certs as Map<string, LabCertificate>).set(spec.name, renewed);
  return renewed;
}

/** The hashes of a PEM certificate that POSH documents and TLSA records carry. */
export function certificateHashes(
  pem: string,
): Pick<LabCertificate, 'pem' | 'derSha256Base64' | 'derSha512Base64' | 'spkiSha256Hex'> {
  const cert = new X509Certificate(pem);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return {
    pem,
    derSha256Base64: createHash('sha256').update(cert.raw).digest('base64'),
    derSha512Base64: createHash('sha512').update(cert.raw).digest('base64'),
    spkiSha256Hex: createHash('sha256').update(spki).digest('hex'),
  };
}

function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

/** The start of every openssl `req` config here: a fixed subject, then the `[ext]` section follows. */
function reqHeader(commonName: string): string[] {
  return [
    '[req]',
    'distinguished_name = dn',
    'x509_extensions = ext',
    'prompt = no',
    '[dn]',
    'O = Quiver test lab',
    `CN = ${commonName}`,
    '[ext]',
  ];
}

function caConfig(commonName: string, intermediate: boolean): string {
  return [
    ...reqHeader(commonName),
    // RFC 5280 §4.2.1.9: pathLenConstraint 0 -> only end-entity certificates below the intermediate.
    intermediate ? 'basicConstraints = critical, CA:TRUE, pathlen:0' : 'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    ...(intermediate ? ['authorityKeyIdentifier = keyid'] : []),
    '',
  ].join('\n');
}

/**
 * openssl 3.0's `req -x509` has no way to backdate, so an expired certificate goes through
 * `openssl ca` with explicit `-startdate`/`-enddate` (its own database files in `ca/expired-db`).
 */
async function issueExpired(
  dir: string,
  spec: CertificateSpec,
  issuer: { certFile: string; keyFile: string },
  leafConf: string,
  certFile: string,
  keyFile: string,
): Promise<void> {
  const db = join(dir, `${spec.name}-db`);
  await mkdir(db, { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  const conf = join(db, 'ca.cnf');
  await writeFile(
    conf,
    [
      '[ca]',
      'default_ca = lab',
      '[lab]',
      `database = ${join(db, 'index.txt')}`,
      `new_certs_dir = ${db}`,
      `serial = ${join(db, 'serial')}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'email_in_dn = no',
      '[any]',
      'organizationName = optional',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const csr = join(db, 'request.csr');
  await run(
    'openssl',
    ['req', '-new', '-config', leafConf, ...newKey(keyFile), '-out', csr],
    `requesting the ${spec.name} certificate`,
  );
  const now = Date.now();
  await run(
    'openssl',
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      conf,
      '-cert',
      issuer.certFile,
      '-keyfile',
      issuer.keyFile,
      '-in',
      csr,
      '-out',
      certFile,
      '-startdate',
      generalizedTime(now - 60 * DAY_MS),
      '-enddate',
      generalizedTime(now - 30 * DAY_MS),
      '-extfile',
      leafConf,
      '-extensions',
      'ext',
    ],
    `issuing the expired ${spec.name} certificate`,
  );
}

/** YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.2), the form `openssl ca -startdate` accepts. */
function generalizedTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The openssl `req` config for one server certificate. */
export function leafConfig(spec: CertificateSpec): string {
  const san: string[] = [];
  spec.dnsIds.forEach((name, i) => san.push(`DNS.${i + 1} = ${name}`));
  let n = 0;
  // RFC 4985 §2: SRVName ::= IA5String; RFC 6120 §13.7.1.4: XmppAddr ::= UTF8String.
  for (const srv of spec.srvIds) san.push(`otherName.${++n} = ${ID_ON_DNSSRV};IA5STRING:${srv}`);
  for (const addr of spec.xmppAddrs) san.push(`otherName.${++n} = ${ID_ON_XMPPADDR};UTF8:${addr}`);
  return [
    ...reqHeader(spec.name),
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth, clientAuth',
    'subjectKeyIdentifier = hash',
    // A self-signed certificate has no issuer key to point at.
    ...(spec.issuer === 'self' ? [] : ['authorityKeyIdentifier = keyid']),
    // RFC 5280 §4.2.2.1: as a public CA's certificates do, the intermediate's leaves say where their
    // issuer is; that caIssuers is what tells a left-out intermediate (nointermediate.test) from an
    // unknown authority (pkixPath.ts). Nothing fetches it.
    ...(spec.issuer === 'intermediate'
      ? ['authorityInfoAccess = caIssuers;URI:http://ca.lab.invalid/intermediate.crt']
      : []),
    'subjectAltName = @san',
    '[san]',
    ...san,
    '',
  ].join('\n');
}
