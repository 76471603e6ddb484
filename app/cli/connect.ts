/**
 * `quiver connect`: log in once, print the connection's security record, move at most one message
 * each way, close the stream cleanly.
 */
import type { SecurityRecord, TransportPreference } from '../contract/viewModels.ts';
import { establish } from '../connect/connector.ts';
import { buildConnectDeps } from '../connect/connectDeps.ts';
import { openStorage } from '../storage/storage.ts';
import { defaultDataDir } from '../dataDir.ts';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseCommandArgs, single, has, UsageError } from './args.ts';
import { readCa, readPrivateFile } from './files.ts';
import type { CliIo } from './main.ts';

const SPEC = {
  'password-env': { arity: 1 },
  'password-file': { arity: 1 },
  resolver: { arity: 1 },
  'resolver-validates': { arity: 0 },
  ca: { arity: 1, repeat: true },
  transport: { arity: 1 },
  send: { arity: 2 },
  'wait-message': { arity: 1 },
  json: { arity: 0 },
  'data-dir': { arity: 1 },
  // Diagnostic, not in the usage text: the port for https:// URLs without one (the lab's HTTPS server).
  'https-port': { arity: 1 },
} as const;

export async function runConnect(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, SPEC);
  const [jid, ...extra] = args.positionals;
  if (!jid || extra.length > 0) throw new UsageError('connect takes exactly one JID');
  if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) throw new UsageError(`"${jid}" is not a bare JID like alice@example.org`);
  const transport = (single(args, 'transport') ?? 'auto') as TransportPreference;
  if (!['auto', 'starttls', 'tls', 'quic'].includes(transport)) throw new UsageError('--transport must be starttls, tls or quic');
  const resolver = single(args, 'resolver') ?? null;
  if (resolver !== null && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(resolver)) {
    throw new UsageError('--resolver must be HOST:PORT');
  }
  const waitSeconds = single(args, 'wait-message');
  const wait = waitSeconds === undefined ? null : Number(waitSeconds);
  if (wait !== null && !(Number.isFinite(wait) && wait > 0 && wait <= 3600)) throw new UsageError('--wait-message takes seconds, 1 to 3600');
  const send = args.flags.get('send')?.[0] ?? null;
  const json = has(args, 'json');
  const httpsPortText = single(args, 'https-port');
  const httpsPort = httpsPortText === undefined ? undefined : Number(httpsPortText);
  if (httpsPort !== undefined && !(Number.isInteger(httpsPort) && httpsPort >= 1 && httpsPort <= 65535)) throw new UsageError('--https-port takes a port number');

  const password = readPassword(args, io);
  const extraCaPem = (args.flags.get('ca') ?? []).map(([file]) => readCa(file!)).join('\n') || null;

  const dataDir = single(args, 'data-dir') ?? defaultDataDir(io.env);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const storage = openStorage(join(dataDir, 'quiver.db'));
  try {
    const accountId = storage.getAccountByJid(jid)?.id ?? null;
    const stored = new Set<string>();
    const saveRecord = (record: SecurityRecord) => {
      if (stored.has(record.id)) storage.updateConnection(record.id, { ...record });
      else {
        storage.insertConnection(record);
        stored.add(record.id);
      }
    };
    // The pins and the POSH cache of the app's database apply to the CLI too (same data dir).
    const deps = buildConnectDeps({ resolver, resolverValidates: has(args, 'resolver-validates'), extraCaPem, transport }, { resolver: null, extraCaPem: null }, saveRecord, { storage, accountId, httpsPort });
    const established = await establish({ jid, password, preference: transport, accountId }, deps);
    const { driver, record } = established;
    if (json) io.stdout(JSON.stringify(record));
    else io.stdout(describeRecord(record));

    let received = 0;
    let closeReason: string | null = null;
    const closed = new Promise<void>((resolve) => {
      driver.setEventHandler((event) => {
        if (event.type === 'message' && event.body !== null && event.messageType !== 'error') {
          received++;
          const line = { type: 'message', from: event.from, body: event.body };
          io.stdout(json ? JSON.stringify(line) : `message from ${event.from}: ${event.body}`);
          if (wait !== null && received === 1) {
            driver.machine.close(Date.now());
            driver.pump();
          }
        } else if (event.type === 'error') {
          closeReason = event.error.message;
        } else if (event.type === 'closed') {
          closeReason ??= event.error?.message ?? null;
          resolve();
        }
      });
    });

    if (send) {
      driver.machine.sendMessage({ to: send[0]!, body: send[1]!, type: 'chat' });
      driver.pump();
    }
    let timedOut = false;
    if (wait !== null) {
      // Initial presence: without it the server does not route messages for the bare JID to us (RFC 6121 §8.5.2.1.1).
      driver.machine.sendPresence();
      driver.pump();
      const timer = setTimeout(() => {
        timedOut = true;
        driver.machine.close(Date.now());
        driver.pump();
      }, wait * 1000);
      await closed;
      clearTimeout(timer);
    } else {
      driver.machine.close(Date.now());
      driver.pump();
      await closed;
    }
    record.endedAt ??= Date.now();
    record.endReason ??= closeReason ?? 'closed by quiver connect';
    saveRecord(record);
    if (timedOut && received === 0) {
      io.stderr(`quiver: no message arrived within ${wait} s`);
      return 1;
    }
    return 0;
  } finally {
    storage.close();
  }
}

function readPassword(args: ReturnType<typeof parseCommandArgs>, io: CliIo): string {
  const file = single(args, 'password-file');
  if (file !== undefined) return readPrivateFile(file).replace(/\r?\n$/, '');
  const name = single(args, 'password-env') ?? 'QUIVER_PASSWORD';
  const value = io.env[name];
  if (value === undefined || value === '') {
    throw new UsageError(`no password: set the environment variable ${name} (or give --password-env NAME or --password-file FILE)`);
  }
  return value;
}

function describeRecord(record: SecurityRecord): string {
  const v = record.verification;
  return [
    `connected as ${record.boundJid}`,
    `  transport   ${record.transport} to ${record.host}:${record.port} (${record.srv ?? record.source}, DNSSEC ${record.dnssec})`,
    `  TLS         ${record.tlsVersion} ${record.cipher} ALPN ${record.alpn ?? '-'} SNI ${record.sni}`,
    `  server      ${v.trusted ? 'trusted' : 'NOT trusted'} by ${v.prooftype ?? '-'} (${v.identity ?? '-'})`,
    `  login       ${record.saslMechanism}${record.channelBinding ? ` with ${record.channelBinding} channel binding` : ''}`,
  ].join('\n');
}
