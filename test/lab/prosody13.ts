/**
 * The lab's Prosody 13 (Debian bookworm-backports, unpacked beside the installed 0.12 by
 * scripts/ensureProsody13.ts): the 'modern' scenarios (modern.test) on ports of their own, with
 * what issue 12 tests against a real server: XEP-0388 SASL2 with XEP-0386 Bind2 (carbons, SM and
 * CSI inline), XEP-0484 FAST, SM resumption inline in SASL2, XEP-0474 downgrade protection,
 * XEP-0198 (mod_smacks), XEP-0280 carbons, XEP-0313 MAM and XEP-0352 CSI.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, run } from './managedProcess.ts';
import { waitUntil } from './waitUntil.ts';
import { streamFeatures, tlsStreamFeatures } from './streamProbe.ts';
import { LabError } from './labError.ts';
import {
  failOnLoggedError,
  logSize,
  lua,
  luaTable,
  PROSODY_USER,
  SECURE_LOOPBACK_MODULE,
  SECURE_LOOPBACK_MODULE_SOURCE,
  writeAccounts,
} from './prosody.ts';
import type { LabCa } from './ca.ts';
import type { LabPorts } from './ports.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import type { Prosody13Install } from '../../scripts/ensureProsody13.ts';

export interface Prosody13Options {
  readonly labDir: string;
  readonly ports: LabPorts;
  readonly ca: LabCa;
  /** bare JID -> password; the accounts of the 'modern' scenarios are created from it. */
  readonly users: Readonly<Record<string, string>>;
  /** The unpacked tree (`ensureProsody13()`). */
  readonly install: Prosody13Install;
}

export interface LabProsody13 {
  /** The running process; a new one after `restart()`. */
  readonly process: ManagedProcess;
  /** Prosody's own version, e.g. "13.0.1". */
  readonly version: string;
  /**
   * Stops Prosody 13 (SIGTERM: it closes every stream with `system-shutdown`; SIGKILL after 3 s)
   * and starts it again on the same config, data (accounts, rosters, archives, FAST tokens) and
   * ports; resolves once every host answers again as at start. In-memory state is gone: XEP-0198
   * sessions cannot be resumed. One restart at a time (the lab's control channel runs its
   * commands in turn).
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Modules beyond the 0.12 instance's: prosody-modules' SASL2 family, loaded from the unpacked
 * tree's plugin dir. Never on 0.12 (there mod_sasl2 breaks every TLS login).
 */
const MODERN_MODULES = [
  'sasl2', // XEP-0388
  'sasl2_bind2', // XEP-0386, inline in SASL2
  'sasl2_fast', // XEP-0484, offered when the stream header carries from='user@domain'
  'sasl2_sm', // XEP-0198 resumption and enable inline in SASL2 / Bind2
  'sasl_ssdp', // XEP-0474 SCRAM downgrade protection
];

/**
 * Starts Prosody 13 with its config, data, pid and log under `<labDir>/prosody-modern`, as
 * Prosody's user, and resolves once every 'modern' host answers on the STARTTLS port with
 * `<starttls/>`, on the direct TLS port with SASL2 and FAST, and on the second QUIC gateway's
 * plaintext loopback port (`ports.prosody13GatewayBackend`, sessions treated as secure by the lab's
 * mod_lab_secure_loopback) with SASL2 and FAST and no `<starttls/>`. The caller MUST call `stop()`.
 */
export async function startProsody13(opts: Prosody13Options): Promise<LabProsody13> {
  const hosts = SCENARIOS.filter((s) => s.server === 'modern');
  await assertReadableByProsody(opts.install);
  const dir = await prepareInstance(opts, hosts);
  const logFile = join(dir, 'prosody.log');
  let server = launch(opts, dir);
  const stop = (): Promise<void> => server.stop();
  try {
    await whenReady(server, opts, hosts, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    get process() {
      return server;
    },
    version: opts.install.prosodyVersion,
    restart: async () => {
      await server.stop();
      // Errors logged by the stopped run (or at its shutdown) are not the new run's.
      const since = logSize(logFile);
      server = launch(opts, dir);
      await whenReady(server, opts, hosts, logFile, since);
    },
    stop,
  };
}

function launch(opts: Prosody13Options, dir: string): ManagedProcess {
  // setpriv execs Lua, so the process group we kill on stop is Prosody's.
  return new ManagedProcess(
    'prosody 13 (modern)',
    'setpriv',
    [
      `--reuid=${PROSODY_USER}`,
      `--regid=${PROSODY_USER}`,
      '--init-groups',
      'lua5.4',
      opts.install.launcher,
      '--config',
      join(dir, 'prosody.cfg.lua'),
      '-F',
    ],
    join(dir, 'prosody.out'),
  );
}

/**
 * Resolves once every 'modern' host answers on the STARTTLS port with `<starttls/>`, on the
 * direct TLS port with SASL2 and FAST, and on the gateway's plaintext port with SASL2 and FAST
 * without `<starttls/>`. Only log lines after byte `since` count as errors.
 */
async function whenReady(
  server: ManagedProcess,
  opts: Prosody13Options,
  hosts: readonly Scenario[],
  logFile: string,
  since = 0,
): Promise<void> {
  await Promise.all(
    hosts.flatMap((host) => [
      waitUntil(
        `${host.domain} on Prosody 13's port ${opts.ports.prosody13Starttls} offering <starttls/>`,
        async () => {
          failOnLoggedError(server, logFile, since);
          const features = await streamFeatures(opts.ports.prosody13Starttls, host.domain, 500);
          return features.includes('<starttls');
        },
        { server, extraLogs: [logFile] },
      ),
      waitUntil(
        `${host.domain} on Prosody 13's direct TLS port ${opts.ports.prosody13Tls} offering SASL2 and FAST`,
        async () => {
          failOnLoggedError(server, logFile, since);
          const { socket, features } = await tlsStreamFeatures(
            opts.ports.prosody13Tls,
            host.domain,
            { ca: opts.ca.caPem, ALPNProtocols: ['xmpp-client'] },
            500,
            `probe@${host.domain}`,
          );
          socket.destroy();
          return features.includes("'urn:xmpp:sasl:2'") && features.includes("'urn:xmpp:fast:0'");
        },
        { server, extraLogs: [logFile] },
      ),
      waitUntil(
        `${host.domain} on the second gateway's port ${opts.ports.prosody13GatewayBackend} offering SASL2 and FAST without <starttls/>`,
        async () => {
          failOnLoggedError(server, logFile, since);
          const features = await streamFeatures(
            opts.ports.prosody13GatewayBackend,
            host.domain,
            500,
            `probe@${host.domain}`,
          );
          return (
            features.includes("'urn:xmpp:sasl:2'") &&
            features.includes("'urn:xmpp:fast:0'") &&
            !features.includes('<starttls')
          );
        },
        { server, extraLogs: [logFile] },
      ),
    ]),
  );
}

/** The cache may sit under a home directory Prosody's user cannot enter: say so, not "module not found". */
async function assertReadableByProsody(install: Prosody13Install): Promise<void> {
  try {
    await run(
      'setpriv',
      [`--reuid=${PROSODY_USER}`, `--regid=${PROSODY_USER}`, '--init-groups', 'test', '-r', install.launcher],
      'checking that Prosody can read its tree',
    );
  } catch (err) {
    throw new LabError(
      'bad-state',
      `lab: Prosody's user cannot read ${install.launcher}: every directory above ${install.root} must be ` +
        'searchable by others (chmod o+x), or set QUIVER_PROSODY13_CACHE to a directory that is',
      { cause: err },
    );
  }
}

async function prepareInstance(opts: Prosody13Options, hosts: readonly Scenario[]): Promise<string> {
  const dir = join(opts.labDir, 'prosody-modern');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  // Empty, so certificate auto-discovery finds nothing and does not complain.
  await mkdir(join(dir, 'certs'), { recursive: true });
  await mkdir(join(dir, 'modules'), { recursive: true });
  await copyFile(SECURE_LOOPBACK_MODULE_SOURCE, join(dir, 'modules', SECURE_LOOPBACK_MODULE));
  // startProsody chowns every key too, but it runs beside us: ours may not be done yet.
  for (const host of hosts) {
    const files = opts.ca.certs.get(host.certificate ?? '');
    if (files) await run('chown', [`${PROSODY_USER}:${PROSODY_USER}`, files.keyFile], 'giving Prosody 13 its keys');
  }
  await writeFile(join(dir, 'prosody.cfg.lua'), prosody13Config(dir, hosts, opts));
  for (const host of hosts) await writeAccounts(dataDir, host.domain, opts.users);
  await run('chown', ['-R', `${PROSODY_USER}:${PROSODY_USER}`, dir], `handing ${dir} to Prosody 13`);
  await chmod(dir, 0o755);
  return dir;
}

function prosody13Config(dir: string, hosts: readonly Scenario[], opts: Prosody13Options): string {
  const cert = (name: string | undefined): { certificate: string; key: string } => {
    const files = name === undefined ? undefined : opts.ca.certs.get(name);
    if (!files) throw new LabError('bad-state', `lab: no certificate named ${name} was issued`);
    return { certificate: files.certFile, key: files.keyFile };
  };
  const modules = [
    'roster',
    'saslauth',
    'tls',
    'disco',
    'ping',
    'posix',
    'carbons',
    'mam',
    'smacks',
    'csi',
    'csi_simple',
    'blocklist',
    'version',
    'time',
    'private',
    'pep',
    'vcard_legacy',
    ...MODERN_MODULES,
    'lab_secure_loopback', // the second QUIC gateway's backend port (test/lab/prosody-modules)
  ];
  const first = cert(hosts[0]?.certificate);
  const lines = [
    '-- Generated by test/lab/prosody13.ts for one lab run. Never the system config.',
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    // Added to CFG_PLUGINDIR (the unpacked tree's modules), not instead of it.
    `plugin_paths = { ${lua(join(dir, 'modules'))} }`,
    `certificates = ${lua(join(dir, 'certs'))}`,
    `log = { { levels = { min = "debug" }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    'interfaces = { "127.0.0.1" }',
    'local_interfaces = { "127.0.0.1" }',
    // Nagle on Prosody's side delays small writes behind an unacknowledged one (issue 11: 0.5-1.5 RTT).
    'network_settings = { nagle = false }',
    `modules_enabled = { ${modules.map(lua).join(', ')} }`,
    // No s2s: nothing to federate with, and its default port 5269 would clash with 0.12's.
    `modules_disabled = { ${lua('s2s')} }`,
    's2s_ports = { }',
    // The second port is the second QUIC gateway's backend: plaintext, on loopback, treated as
    // secure by mod_lab_secure_loopback (XEP-0467: TLS is the gateway's QUIC handshake).
    `c2s_ports = { ${opts.ports.prosody13Starttls}, ${opts.ports.prosody13GatewayBackend} }`,
    `lab_secure_loopback_port = ${opts.ports.prosody13GatewayBackend}`,
    `c2s_direct_tls_ports = { ${opts.ports.prosody13Tls} }`,
    // RFC 6120 §5.3.1 and RFC 7590: the server requires TLS before authentication.
    'c2s_require_encryption = true',
    // internal_plain: the same account files as 0.12 (prosody.ts writeAccounts).
    'authentication = "internal_plain"',
    'storage = "internal"',
    'allow_registration = false',
    'archive_expires_after = "1d"',
    `ssl = ${luaTable(first)}`,
    // XEP-0368 §3: the ALPN protocol is "xmpp-client".
    `c2s_direct_tls_ssl = ${luaTable({ ...first, alpn: ['xmpp-client'] })}`,
  ];
  for (const host of hosts) {
    const files = cert(host.certificate);
    lines.push(
      '',
      `VirtualHost ${lua(host.domain)}`,
      `  ssl = ${luaTable(files)}`,
      `  c2s_direct_tls_ssl = ${luaTable({ ...files, alpn: ['xmpp-client'] })}`,
    );
  }
  return lines.join('\n') + '\n';
}
