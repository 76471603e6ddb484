import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './managedProcess.ts';
import type { CertificateSpec } from './scenarios.ts';

/** OIDs of the otherName forms (RFC 6120 §13.7.1.4, RFC 4985 §2). */
export const ID_ON_XMPPADDR = '1.3.6.1.5.5.7.8.5';
export const ID_ON_DNSSRV = '1.3.6.1.5.5.7.8.7';

export interface LabCa {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  /** certificate name -> PEM file and key file */
  readonly certs: ReadonlyMap<string, { certFile: string; keyFile: string }>;
}

/**
 * Creates a fresh private root CA in `<labDir>/ca` and issues one P-256 server certificate per
 * spec, with the openssl CLI. Nothing here is ever reused across labs or committed.
 */
export async function createLabCa(labDir: string, specs: readonly CertificateSpec[]): Promise<LabCa> {
  const dir = join(labDir, 'ca');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const caConf = join(dir, 'ca.cnf');
  await writeFile(
    caConf,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ext',
      'prompt = no',
      '[dn]',
      'O = Quiver test lab',
      'CN = Quiver Lab Root CA',
      '[ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await run(
    'openssl',
    ['req', '-x509', '-new', '-config', caConf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', caKey, '-out', caFile, '-days', '30', '-sha256'],
    'creating the lab root CA',
  );

  const certs = new Map<string, { certFile: string; keyFile: string }>();
  await Promise.all(
    specs.map(async (spec) => {
      const certFile = join(dir, `${spec.name}.pem`);
      const keyFile = join(dir, `${spec.name}.key`);
      const conf = join(dir, `${spec.name}.cnf`);
      await writeFile(conf, leafConfig(spec));
      await run(
        'openssl',
        ['req', '-x509', '-new', '-config', conf, '-CA', caFile, '-CAkey', caKey, '-newkey', 'ec',
          '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
          '-days', '30', '-sha256'],
        `issuing the ${spec.name} certificate`,
      );
      certs.set(spec.name, { certFile, keyFile });
    }),
  );
  return { dir, caFile, caPem: await readFile(caFile, 'utf8'), certs };
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
    '[req]',
    'distinguished_name = dn',
    'x509_extensions = ext',
    'prompt = no',
    '[dn]',
    'O = Quiver test lab',
    `CN = ${spec.name}`,
    '[ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth, clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    'subjectAltName = @san',
    '[san]',
    ...san,
    '',
  ].join('\n');
}
