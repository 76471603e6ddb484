/**
 * `quiver gateway --listen <addr:port> --cert FILE --key FILE --forward <host:port>`: puts an
 * XMPP-over-QUIC front (XEP-0467) on an existing XMPP server (`app/gateway/quicGateway.ts`).
 * `--cert FILE --key FILE` may repeat, in pairs, one per certificate: the client gets the first
 * whose certificate names its SNI, else the first. Runs
 * until SIGINT or SIGTERM (or `stop` aborts), then closes every connection cleanly. Prints one
 * line when listening, one per connection when it closes (with `--verbose` also when it opens),
 * one per interval counting refused connections, and one when stopped.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DEFAULT_GATEWAY_LIMITS, QuicGateway, type GatewayLimits } from '../gateway/quicGateway.ts';
import { formatGatewayRecord } from '../gateway/gatewayLog.ts';
import { formatHostPort } from '../contract/ipLiteral.ts';
import type { GatewayCertificate } from '../gateway/certificateSelector.ts';
import { parseCertificate } from '../security/certificate.ts';
import { has, parseCommandArgs, single, UsageError, type ParsedArgs } from './args.ts';
import { usageOf } from './usage.ts';
import type { CliIo } from './cliIo.ts';

const SPEC = {
  listen: { arity: 1 },
  // Repeated in pairs: the n-th --key belongs to the n-th --cert; the first pair is the default.
  cert: { arity: 1, repeat: true },
  key: { arity: 1, repeat: true },
  forward: { arity: 1 },
  'max-connections': { arity: 1 },
  'max-streams': { arity: 1 },
  'max-buffer': { arity: 1 },
  'idle-timeout': { arity: 1 },
  retry: { arity: 0 },
  'early-data': { arity: 0 },
  'retry-above': { arity: 1 },
  'max-backend': { arity: 1 },
  'max-backend-per-address': { arity: 1 },
  'first-byte-timeout': { arity: 1 },
  json: { arity: 0 },
  verbose: { arity: 0 },
} as const;

/** What the flags say, checked (files read, limits in range). */
export interface GatewayConfig {
  listen: { address: string; port: number };
  forward: { host: string; port: number };
  /** The first --cert/--key pair: presented when no other pair names the client's SNI. */
  certificateChain: Uint8Array[];
  privateKey: KeyObject;
  /** The further pairs, in order (empty with one --cert). */
  moreCertificates: GatewayCertificate[];
  limits: GatewayLimits;
  json: boolean;
  /** Also print a line when a connection is up. */
  verbose: boolean;
  /** `--early-data`: issue session tickets and accept 0-RTT (`QuicGatewayOptions.earlyData`). */
  earlyData: boolean;
}

export async function runGateway(
  argv: readonly string[],
  io: CliIo,
  /** Ends the gateway (tests); default: the first SIGINT or SIGTERM. */
  stop?: AbortSignal,
): Promise<number> {
  const args = parseCommandArgs(argv, SPEC);
  if (args.help) {
    io.stdout(usageOf('gateway'));
    return 0;
  }
  const config = gatewayConfig(args);
  const gateway = await QuicGateway.start({
    listen: config.listen,
    forward: config.forward,
    certificateChain: config.certificateChain,
    privateKey: config.privateKey,
    moreCertificates: config.moreCertificates,
    limits: config.limits,
    log: (record) => io.stdout(formatGatewayRecord(record, config.json)),
    verbose: config.verbose,
    earlyData: config.earlyData,
  });
  const { address, port } = gateway.address;
  const listen = formatHostPort(address, port);
  const forward = formatHostPort(config.forward.host, config.forward.port);
  io.stdout(
    config.json
      ? JSON.stringify({ type: 'listening', listen, forward })
      : `quiver gateway: QUIC (ALPN xmpp-client) on UDP ${listen}, each stream forwarded to TCP ${forward}`,
  );
  const signal = stop ?? terminationSignal();
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await gateway.close();
  io.stdout(config.json ? JSON.stringify({ type: 'stopped' }) : 'quiver gateway: stopped');
  return 0;
}

/** Reads and checks every flag; throws `UsageError` for the first that is wrong. */
export function gatewayConfig(args: ParsedArgs): GatewayConfig {
  if (args.positionals.length > 0)
    throw new UsageError(`gateway takes no arguments, only options: "${args.positionals[0]}"`);
  const listenFlag = required(args, 'listen', 'ADDR:PORT, e.g. 0.0.0.0:443');
  required(args, 'cert', 'FILE');
  required(args, 'key', 'FILE');
  const certFiles = all(args, 'cert');
  const keyFiles = all(args, 'key');
  if (certFiles.length !== keyFiles.length)
    throw new UsageError(
      `--cert and --key go in pairs (the n-th --key belongs to the n-th --cert), but there are ${certFiles.length} --cert and ${keyFiles.length} --key`,
    );
  const forwardFlag = required(args, 'forward', 'HOST:PORT, e.g. 127.0.0.1:5222');
  const listen = hostPortFlag(listenFlag, 'listen', true);
  if (isIP(listen.host) === 0)
    throw new UsageError(`--listen needs an IP address, not "${listen.host}" (e.g. 0.0.0.0:443 or [::]:443)`);
  const forward = hostPortFlag(forwardFlag, 'forward', false);
  const [first, ...moreCertificates] = certFiles.map((certFile, i) => readCertificatePair(certFile, keyFiles[i]!));
  const d = DEFAULT_GATEWAY_LIMITS;
  const retryAbove = optionalInteger(args, 'retry-above', 0, 1_000_000);
  const limits: GatewayLimits = {
    maxConnections: optionalInteger(args, 'max-connections', 1, 1_000_000) ?? d.maxConnections,
    maxStreamsPerConnection: optionalInteger(args, 'max-streams', 1, 1000) ?? d.maxStreamsPerConnection,
    maxBufferedPerStream: optionalInteger(args, 'max-buffer', 1024, 1 << 30) ?? d.maxBufferedPerStream,
    idleTimeoutMs: (optionalInteger(args, 'idle-timeout', 1, 3600) ?? d.idleTimeoutMs / 1000) * 1000,
    requireRetry: has(args, 'retry'),
    maxBackendConnections: optionalInteger(args, 'max-backend', 1, 1_000_000) ?? d.maxBackendConnections,
    maxBackendPerAddress: optionalInteger(args, 'max-backend-per-address', 1, 1_000_000) ?? d.maxBackendPerAddress,
    maxEarlyBackendPerAddress: d.maxEarlyBackendPerAddress,
    firstByteTimeoutMs: (optionalInteger(args, 'first-byte-timeout', 1, 3600) ?? d.firstByteTimeoutMs / 1000) * 1000,
    sendStallTimeoutMs: d.sendStallTimeoutMs,
    refusalLogIntervalMs: d.refusalLogIntervalMs,
    ...(retryAbove === undefined ? {} : { retryAbove }),
  };
  return {
    listen: { address: listen.host, port: listen.port },
    forward,
    certificateChain: first!.certificateChain,
    privateKey: first!.privateKey,
    moreCertificates,
    limits,
    json: has(args, 'json'),
    verbose: has(args, 'verbose'),
    earlyData: has(args, 'early-data'),
  };
}

/** Every value of a repeatable one-value flag, in the order given. */
function all(args: ParsedArgs, name: string): string[] {
  return (args.flags.get(name) ?? []).map((values) => values[0]!);
}

/** One --cert/--key pair, read and checked: the key must belong to the chain's first certificate. */
function readCertificatePair(certFile: string, keyFile: string): GatewayCertificate {
  const certificateChain = readCertificateChain(certFile);
  const privateKey = readPrivateKey(keyFile);
  if (!new X509Certificate(certificateChain[0]!).checkPrivateKey(privateKey))
    throw new UsageError(`the key in ${keyFile} does not belong to the first certificate in ${certFile}`);
  try {
    // The gateway picks pairs by the names their leaf presents: it must be able to read them.
    parseCertificate(certificateChain[0]!);
  } catch (error) {
    throw new UsageError(`the first certificate in ${certFile} cannot be read: ${(error as Error).message}`);
  }
  return { certificateChain, privateKey };
}

function required(args: ParsedArgs, name: string, what: string): string {
  const value = single(args, name);
  if (value === undefined) throw new UsageError(`gateway needs --${name} ${what}`);
  return value;
}

/** `host:port` or `[v6]:port`; port 0 only where `portZero` (listen on any free port). */
function hostPortFlag(value: string, name: string, portZero: boolean): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^[\]:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (port === 0 && !portZero))
    throw new UsageError(`--${name} must be HOST:PORT (IPv6 in brackets, e.g. [::1]:5222), not "${value}"`);
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && isIP(host) !== 6) throw new UsageError(`--${name}: "${host}" is not an IPv6 address`);
  return { host, port };
}

function optionalInteger(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const value = single(args, name);
  if (value === undefined) return undefined;
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max))
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, not "${value}"`);
  return n;
}

/** The PEM certificates of `file`, leaf first, as DER. */
function readCertificateChain(file: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the certificate file ${file}: ${(error as Error).message}`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(`${file} holds no PEM certificate`);
  return blocks.map((pem, i) => {
    try {
      return new Uint8Array(new X509Certificate(pem).raw);
    } catch (error) {
      throw new UsageError(`certificate ${i + 1} in ${file} cannot be read: ${(error as Error).message}`);
    }
  });
}

/**
 * The private key of `file` (PEM). Like a password file (`files.ts`), it must be readable by its
 * owner only; the mode is checked on the descriptor that is read.
 */
function readPrivateKey(file: string): KeyObject {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new UsageError(`cannot read the key file ${file}: ${(error as Error).message}`);
  }
  let text: string;
  try {
    const { mode } = fstatSync(fd);
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new UsageError(
        `the key file ${file} may be read by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${file}`,
      );
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw new UsageError(`${file} holds no private key in PEM form: ${(error as Error).message}`);
  }
}

/** Aborts on the first SIGINT or SIGTERM; the handlers go once it has. */
function terminationSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
