import { readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, run } from './managedProcess.ts';
import { waitUntil } from './waitUntil.ts';
import { streamFeatures } from './streamProbe.ts';
import { LabError } from './labError.ts';
import type { LabCa } from './ca.ts';
import type { LabPorts } from './ports.ts';
import { MUTUAL_ROSTERS, SCENARIOS, type Scenario } from './scenarios.ts';

/** Debian's Prosody refuses to run as root; it runs as this user, its files owned by it. */
export const PROSODY_USER = 'prosody';

/**
 * The lab's own Prosody module: sessions on the gateway's plaintext loopback port are secure (see
 * the file). Copied into each instance's dir, which Prosody's user can read.
 */
export const SECURE_LOOPBACK_MODULE = 'mod_lab_secure_loopback.lua';
export const SECURE_LOOPBACK_MODULE_SOURCE = join(
  dirname(fileURLToPath(import.meta.url)),
  'prosody-modules',
  SECURE_LOOPBACK_MODULE,
);

export interface ProsodyOptions {
  readonly labDir: string;
  readonly ports: LabPorts;
  readonly ca: LabCa;
  /** bare JID -> password; each JID's domain must be a scenario served by Prosody. */
  readonly users: Readonly<Record<string, string>>;
}

export interface LabProsody {
  /**
   * Every scenario with server 'tls' (and its SNI aliases): STARTTLS and direct TLS, encryption
   * required; and plaintext on `ports.gatewayBackend` for `quiver gateway` (loopback peers only,
   * sessions treated as secure, no STARTTLS offered).
   */
  readonly tls: ManagedProcess;
  /** plain.test: no certificate, no STARTTLS. */
  readonly plain: ManagedProcess;
  /**
   * Stops the TLS instance (SIGTERM: Prosody closes every stream with `system-shutdown`; SIGKILL
   * after 3 s) and starts it again on the same config, data (accounts, rosters, archives) and
   * ports; resolves once every host answers again as at start. In-memory state is gone: XEP-0198
   * sessions cannot be resumed. `tls` is the new process afterwards. One restart at a time (the
   * lab's control channel runs its commands in turn).
   */
  restartTls(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the two Prosody 0.12 instances, each with its own config, data, pid and log under
 * `<labDir>/prosody-<role>`, and resolves once every virtual host answers a stream header with
 * the features it should (STARTTLS on the tls instance, none on the plain one).
 */
export async function startProsody(opts: ProsodyOptions): Promise<LabProsody> {
  // Prosody must read its certificate keys; the CA key stays root's.
  for (const { keyFile } of opts.ca.certs.values()) {
    await run('chown', [`${PROSODY_USER}:${PROSODY_USER}`, keyFile], 'giving Prosody its keys');
  }
  const tlsDir = await prepareInstance(opts, 'tls');
  const plainDir = await prepareInstance(opts, 'plain');

  let tls = launch('prosody (tls)', tlsDir);
  const plain = launch('prosody (plain)', plainDir);
  const stop = async (): Promise<void> => {
    await Promise.all([tls.stop(), plain.stop()]);
  };
  try {
    await Promise.all([whenReady('tls', tls, tlsDir, opts), whenReady('plain', plain, plainDir, opts)]);
  } catch (err) {
    await stop();
    throw err;
  }
  const restart = async (): Promise<void> => {
    await tls.stop();
    // Errors logged by the stopped run (or at its shutdown) are not the new run's.
    const logFile = join(tlsDir, 'prosody.log');
    const since = logSize(logFile);
    tls = launch('prosody (tls)', tlsDir);
    await whenReady('tls', tls, tlsDir, opts, since);
  };
  return {
    get tls() {
      return tls;
    },
    plain,
    restartTls: restart,
    stop,
  };
}

/** The size of a log file, 0 when it does not exist yet: where a new run's lines begin. */
export function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Resolves once every virtual host of `role` answers a stream header on its ports with the
 * features it should (STARTTLS on the tls instance, and SASL without STARTTLS on the gateway's
 * plaintext port; none on the plain one). Only log lines after byte `since` count as errors.
 */
async function whenReady(
  role: 'tls' | 'plain',
  server: ManagedProcess,
  dir: string,
  opts: ProsodyOptions,
  since = 0,
): Promise<void> {
  const logFile = join(dir, 'prosody.log');
  const probes: Promise<void>[] = [];
  for (const s of SCENARIOS) {
    if (s.server !== role) continue; // 'modern' is Prosody 13's (prosody13.ts)
    const port = role === 'tls' ? opts.ports.starttls : opts.ports.plain;
    const expectStarttls = role === 'tls';
    for (const name of [s.domain, ...(s.sniAliases ?? [])]) {
      if (role === 'tls') {
        const backend = opts.ports.gatewayBackend;
        probes.push(
          waitUntil(
            `${name} on the gateway's port ${backend} offering SASL without <starttls/>`,
            async () => {
              failOnLoggedError(server, logFile, since);
              const features = await streamFeatures(backend, name, 500);
              return features.includes('<mechanisms') && !features.includes('<starttls');
            },
            { server, extraLogs: [logFile] },
          ),
        );
      }
      probes.push(
        waitUntil(
          `${name} on port ${port} answering a stream header ${expectStarttls ? 'with' : 'without'} <starttls/>`,
          async () => {
            failOnLoggedError(server, logFile, since);
            const features = await streamFeatures(port, name, 500);
            return features.includes('<stream:features') && features.includes('<starttls') === expectStarttls;
          },
          { server, extraLogs: [logFile] },
        ),
      );
    }
  }
  await Promise.all(probes);
}

/**
 * Prosody keeps running when it cannot bind a port or load a certificate; it only logs an error.
 * Those errors mean the lab cannot work, so they end the wait at once. Only the log from byte
 * `since` on is read (a restarted instance appends to its predecessor's log).
 */
export function failOnLoggedError(server: ManagedProcess, logFile: string, since = 0): void {
  let log: string;
  try {
    log = readFileSync(logFile).subarray(since).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // not started logging yet
    throw err;
  }
  const fatal = log
    .split('\n')
    .filter((line) => /\s(portmanager|certmanager|modulemanager|mod_tls|mod_c2s)\terror\t/.test(line));
  // The certificates directory we leave empty on purpose is not an error for the lab.
  const real = fatal.filter((line) => !line.includes('Error indexing certificate directory'));
  if (real.length > 0) {
    throw new LabError(
      'server-error',
      `lab: ${server.name} logged errors while starting:\n${real.join('\n')}\n${server.tail(15, [logFile])}`,
    );
  }
}

function launch(name: string, dir: string): ManagedProcess {
  // setpriv execs Prosody, so the process group we kill on stop is Prosody's.
  return new ManagedProcess(
    name,
    'setpriv',
    [
      `--reuid=${PROSODY_USER}`,
      `--regid=${PROSODY_USER}`,
      '--init-groups',
      'prosody',
      '--config',
      join(dir, 'prosody.cfg.lua'),
      '-F',
    ],
    join(dir, 'prosody.out'),
  );
}

async function prepareInstance(opts: ProsodyOptions, role: 'tls' | 'plain'): Promise<string> {
  const dir = join(opts.labDir, `prosody-${role}`);
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  // Empty, so Prosody's certificate auto-discovery finds nothing and does not complain.
  await mkdir(join(dir, 'certs'), { recursive: true });
  await mkdir(join(dir, 'modules'), { recursive: true });
  await copyFile(SECURE_LOOPBACK_MODULE_SOURCE, join(dir, 'modules', SECURE_LOOPBACK_MODULE));
  const hosts = SCENARIOS.filter((s) => s.server === role);
  await writeFile(join(dir, 'prosody.cfg.lua'), prosodyConfig(dir, role, hosts, opts));
  for (const host of hosts) await writeAccounts(dataDir, host.domain, opts.users);
  await run('chown', ['-R', `${PROSODY_USER}:${PROSODY_USER}`, dir], `handing ${dir} to Prosody`);
  await chmod(dir, 0o755);
  return dir;
}

function prosodyConfig(dir: string, role: 'tls' | 'plain', hosts: readonly Scenario[], opts: ProsodyOptions): string {
  const cert = (name: string | undefined): { certificate: string; key: string } => {
    const files = name === undefined ? undefined : opts.ca.certs.get(name);
    if (!files) throw new LabError('bad-state', `lab: no certificate named ${name} was issued`);
    return { certificate: files.certFile, key: files.keyFile };
  };
  const modules = [
    'roster',
    'saslauth',
    'disco',
    'ping',
    'posix',
    'carbons',
    'mam',
    'smacks',
    'csi_simple',
    'blocklist',
    'version',
    'time',
    'private',
    'pep',
    'vcard_legacy',
  ];
  if (role === 'tls') modules.push('tls', 'lab_secure_loopback');
  const lines = [
    '-- Generated by test/lab/prosody.ts for one lab run. Never the system config.',
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    `plugin_paths = { ${lua(join(dir, 'modules'))} }`,
    `log = { { levels = { min = "debug" }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    'interfaces = { "127.0.0.1" }',
    // Nagle on Prosody's side delays small writes behind an unacknowledged one (issue 11: 0.5-1.5 RTT).
    'network_settings = { nagle = false }',
    'local_interfaces = { "127.0.0.1" }',
    `modules_enabled = { ${modules.map(lua).join(', ')} }`,
    // No s2s: nothing to federate with, and its default port 5269 would clash between instances.
    // mod_sasl2 is not loaded: on 0.12 it makes TLS logins hang.
    `modules_disabled = { ${(role === 'tls' ? ['s2s'] : ['s2s', 'tls']).map(lua).join(', ')} }`,
    's2s_ports = { }',
    'legacy_ssl_ports = { }',
    // internal_plain offers SCRAM-SHA-1, SCRAM-SHA-256 and PLAIN.
    'authentication = "internal_plain"',
    'storage = "internal"',
    'allow_registration = false',
    'archive_expires_after = "1d"',
  ];
  if (role === 'tls') {
    const first = cert(hosts[0]?.certificate);
    lines.push(
      // The second port is the QUIC gateway's backend: plaintext, on loopback, treated as secure by
      // mod_lab_secure_loopback (XEP-0467: TLS is the gateway's QUIC handshake).
      `c2s_ports = { ${opts.ports.starttls}, ${opts.ports.gatewayBackend} }`,
      `lab_secure_loopback_port = ${opts.ports.gatewayBackend}`,
      `c2s_direct_tls_ports = { ${opts.ports.tls} }`,
      // RFC 6120 §5.3.1 and RFC 7590: the server requires TLS before authentication.
      'c2s_require_encryption = true',
      `ssl = ${luaTable(first)}`,
      // The port's default context; per-host contexts below are picked by SNI. ALPN must be a
      // table on 0.12. XEP-0368 §3: the ALPN protocol is "xmpp-client".
      `c2s_direct_tls_ssl = ${luaTable({ ...first, alpn: ['xmpp-client'] })}`,
    );
  } else {
    lines.push(
      `c2s_ports = { ${opts.ports.plain} }`,
      'c2s_direct_tls_ports = { }',
      'c2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
    );
  }
  for (const host of hosts) {
    // Prosody 0.12 keys its SNI contexts by host name (core/portmanager.lua add_sni_host), so a name
    // that must get this certificate over direct TLS (xmpp.provider.test) is a host of its own.
    for (const name of [host.domain, ...(host.sniAliases ?? [])]) {
      lines.push('', `VirtualHost ${lua(name)}`);
      if (role === 'tls') {
        const files = cert(host.certificate);
        lines.push(
          `  ssl = ${luaTable(files)}`,
          `  c2s_direct_tls_ssl = ${luaTable({ ...files, alpn: ['xmpp-client'] })}`,
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes the internal storage files Prosody 0.12 and 13 read: accounts (internal_plain) and rosters. */
export async function writeAccounts(
  dataDir: string,
  domain: string,
  users: Readonly<Record<string, string>>,
): Promise<void> {
  const hostDir = join(dataDir, encodeStoreName(domain));
  for (const [jid, password] of Object.entries(users)) {
    const [local, host] = jid.split('@');
    if (host !== domain || !local) continue;
    await mkdir(join(hostDir, 'accounts'), { recursive: true });
    await writeFile(
      join(hostDir, 'accounts', `${encodeStoreName(local)}.dat`),
      `return { ["password"] = ${lua(password)} };\n`,
    );
    const contacts = MUTUAL_ROSTERS.flatMap(([a, b]) => (a === jid ? [b] : b === jid ? [a] : []));
    if (contacts.length === 0) continue;
    const items = contacts.map(
      (contact) =>
        `  [${lua(contact)}] = { ["subscription"] = "both"; ["groups"] = { ["Lab"] = true }; ["name"] = ${lua(contact.split('@')[0] ?? contact)} };`,
    );
    await mkdir(join(hostDir, 'roster'), { recursive: true });
    await writeFile(
      join(hostDir, 'roster', `${encodeStoreName(local)}.dat`),
      ['return {', '  [false] = { ["version"] = 1; ["pending"] = { } };', ...items, '};', ''].join('\n'),
    );
  }
}

/** util.datamanager's encoding of host and user names into file names: "%2e" for ".". */
function encodeStoreName(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A Lua string literal; every byte outside a safe set becomes a decimal escape. */
export function lua(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9 @._/:+=-]/.test(c) ? c : `\\${byte.toString().padStart(3, '0')}`;
  }
  return out + '"';
}

export function luaTable(fields: Record<string, string | readonly string[]>): string {
  const parts = Object.entries(fields).map(([k, v]) =>
    typeof v === 'string' ? `${k} = ${lua(v)}` : `${k} = { ${v.map(lua).join(', ')} }`,
  );
  return `{ ${parts.join('; ')} }`;
}
