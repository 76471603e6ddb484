/**
 * `quiver connect`: log one or more accounts in through one connection manager (one QUIC session
 * pool, as the app has), print each connection's security record, move at most one message each
 * way, close the streams cleanly.
 */
import type { SecurityRecord, TransportPreference } from '../contract/viewModels.ts';
import { establish } from '../connect/connector.ts';
import type { StreamDriver } from '../connect/streamDriver.ts';
import { parseJid } from '../xmpp/jid.ts';
import { contactJid } from '../contract/validate.ts';
import { buildConnectDeps } from '../connect/connectDeps.ts';
import { openProfile } from '../storage/openProfile.ts';
import { defaultDataDir } from '../dataDir.ts';
import { parseCommandArgs, single, has, httpsPortFlag, resolverFlag, UsageError } from './args.ts';
import { readCa } from './files.ts';
import { readPasswords } from './passwords.ts';
import { describeRecord } from './recordText.ts';
import { isLongRun, processLongRunEnv, runLongRun, type LongRunEnv } from './connectLongRun.ts';
import { reportFailure, type Failure } from './failure.ts';
import { usageOf } from './usage.ts';
import type { CliIo } from './cliIo.ts';
import { escapeControl } from '../logLine.ts';
import { QuicSessions } from '../connect/quicSessions.ts';
import { profileTicketStore } from '../connect/quicTicketStore.ts';
import { readSystemSnapshot } from '../connect/networkMonitor.ts';
import { networkKey, profileSalt, TransportMemory } from '../connect/transportMemory.ts';
import type { TransportMemoryAdvisor } from '../connect/connector.ts';

const SPEC = {
  'password-env': { arity: 1, repeat: true },
  'password-file': { arity: 1, repeat: true },
  resolver: { arity: 1 },
  'resolver-validates': { arity: 0 },
  ca: { arity: 1, repeat: true },
  transport: { arity: 1 },
  send: { arity: 2 },
  'wait-message': { arity: 1 },
  json: { arity: 0 },
  'data-dir': { arity: 1 },
  // The long run (connectLongRun.ts).
  db: { arity: 1 },
  'send-file': { arity: 1 },
  to: { arity: 1 },
  expect: { arity: 1 },
  // Diagnostic, not in the usage text: the port for https:// URLs without one (the lab's HTTPS server).
  'https-port': { arity: 1 },
} as const;

/** How `runConnect` logs in: `establish` from connector.ts; tests pass a scripted one. */
export type Establish = typeof establish;

/**
 * Exit 0 when the stream was closed by us as asked, or the usage was asked for (`--help`); 1 with
 * one line on stderr when the login, the stream (a stream error, the server closing it) or the
 * wait for a message failed; 2 for usage errors, which are all found before anything is sent.
 * A failure after login is reported here (`reportFailure`); one before it is thrown, and `main`
 * reports it.
 */
export async function runConnect(
  argv: readonly string[],
  io: CliIo,
  connect: Establish = establish,
  longRun: LongRunEnv = processLongRunEnv,
): Promise<number> {
  const args = parseCommandArgs(argv, SPEC);
  if (args.help) {
    io.stdout(usageOf('connect'));
    return 0;
  }
  const jids = args.positionals;
  if (jids.length === 0) throw new UsageError('connect takes one or more JIDs');
  for (const jid of jids)
    if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) throw new UsageError(`"${jid}" is not a bare JID like alice@example.org`);
  const transport = (single(args, 'transport') ?? 'auto') as TransportPreference;
  if (!['auto', 'starttls', 'tls', 'quic'].includes(transport))
    throw new UsageError('--transport must be starttls, tls or quic');
  const resolver = resolverFlag(args);
  const waitSeconds = single(args, 'wait-message');
  const wait = waitSeconds === undefined ? null : Number(waitSeconds);
  if (wait !== null && !(Number.isFinite(wait) && wait > 0 && wait <= 3600))
    throw new UsageError('--wait-message takes seconds, 1 to 3600');
  const send = isLongRun(args) ? null : sendFlag(args);
  const json = has(args, 'json');
  const httpsPort = isLongRun(args) ? undefined : httpsPortFlag(args);

  const passwords = readPasswords(args, io, jids.length);
  const extraCaPem = (args.flags.get('ca') ?? []).map(([file]) => readCa(file!)).join('\n') || null;
  if (isLongRun(args)) {
    const settings = { resolver, resolverValidates: has(args, 'resolver-validates'), extraCaPem, transport };
    return runLongRun(args, { jids, passwords, settings, waitSeconds: wait, json }, io, longRun);
  }

  const dataDir = single(args, 'data-dir') ?? defaultDataDir(io.env);
  const storage = openProfile(dataDir);
  // One pool for every account of this run: accounts reaching the same QUIC endpoint share it.
  // Session tickets live in the data dir, as the app's do: the next run resumes (and may send its
  // stream header in 0-RTT).
  const quic = new QuicSessions({ tickets: profileTicketStore(storage) });
  // The app's memory of where QUIC failed applies to the CLI too (same data dir): a network that
  // blocks UDP sends the next run straight to TCP.
  const memory = new TransportMemory(storage);
  const network = networkKey(await readSystemSnapshot(), profileSalt(storage));
  const transportMemory: TransportMemoryAdvisor = {
    advice: (domain) => memory.advice(network, domain, Date.now()),
    record: (domain, outcome) => memory.record(network, domain, outcome, Date.now()),
  };
  const sessions: { driver: StreamDriver; record: SecurityRecord; boundJid: string }[] = [];
  try {
    const saveRecord = (record: SecurityRecord) => void storage.saveConnection(record);
    const attempts = jids.map((jid, i) => {
      const accountId = storage.getAccountByJid(jid)?.id ?? null;
      // The pins and the POSH cache of the app's database apply to the CLI too (same data dir).
      const deps = buildConnectDeps(
        { resolver, resolverValidates: has(args, 'resolver-validates'), extraCaPem, transport },
        { resolver: null, extraCaPem: null },
        saveRecord,
        { storage, accountId, httpsPort, quic, transportMemory },
      );
      return connect({ jid, password: passwords[i]!, preference: transport, accountId }, deps);
    });
    const results = await Promise.allSettled(attempts);
    for (const r of results) if (r.status === 'fulfilled') sessions.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Every login failing, or one of several: the first failure is the run's (main reports it);
    // the accounts that did log in are closed cleanly below.
    if (failed) {
      const reason = `closed by quiver connect: another account failed (${(failed.reason as Error).message})`;
      for (const { record } of sessions) {
        record.endedAt ??= Date.now();
        record.endReason ??= reason;
        saveRecord(record);
      }
      await closeAll(sessions.map((s) => s.driver));
      throw failed.reason;
    }
    for (const { record } of sessions) io.stdout(json ? JSON.stringify(record) : describeRecord(record));
    const outcome = await converse(sessions, { send, wait, json, io });
    for (const { record } of sessions) {
      record.endedAt ??= Date.now();
      record.endReason ??= outcome.failure?.message ?? 'closed by quiver connect';
      saveRecord(record);
    }
    if (outcome.failure !== null) {
      reportFailure(io, outcome.failure, json);
      return 1;
    }
    return 0;
  } finally {
    // Whatever happened, the sockets and the drivers' timers go: nothing may keep the process alive.
    for (const { driver } of sessions) driver.destroy();
    await quic.close();
    storage.close();
  }
}

/** Closes each stream cleanly (unavailable presence, `</stream:stream>`) and waits up to 2 s for the server's end. */
function closeAll(drivers: StreamDriver[]): Promise<void> {
  return new Promise((resolve) => {
    let open = drivers.filter((d) => d.state !== 'closed').length;
    if (open === 0) return resolve();
    const timer = setTimeout(resolve, 2000);
    for (const driver of drivers) {
      if (driver.state === 'closed') continue;
      driver.setEventHandler((event) => {
        if (event.type === 'closed' && --open === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      if (driver.state !== 'closing') driver.close();
    }
  });
}

interface Conversation {
  send: [to: string, body: string] | null;
  wait: number | null;
  json: boolean;
  io: CliIo;
}

/**
 * The first account sends the message and/or every account waits until one message has arrived
 * on any of them, then every stream is closed; resolves when all are closed. `failure` is the
 * first reason the run did not go as asked (a stream error, the server closing a stream, no
 * message in time), or null. With several accounts a message line names the account it came to (`to`).
 */
function converse(
  accounts: { driver: StreamDriver; boundJid: string }[],
  { send, wait, json, io }: Conversation,
): Promise<{ failure: Failure | null }> {
  const drivers = accounts.map((a) => a.driver);
  return new Promise((resolve) => {
    let failure: Failure | null = null;
    let closing = false;
    let received = 0;
    let open = drivers.length;
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const close = () => {
      if (closing) return;
      closing = true;
      clearTimeout(timer);
      for (const driver of drivers) if (driver.state !== 'closed' && driver.state !== 'closing') driver.close();
    };
    const fail = (code: string, message: string) => {
      failure ??= { code, message };
    };
    const several = drivers.length > 1;
    for (const { driver, boundJid: to } of accounts) {
      let ended = false;
      const onEnded = () => {
        if (ended) return;
        ended = true;
        if (--open === 0) {
          clearTimeout(timer);
          resolve({ failure });
        }
      };
      driver.setEventHandler(
        (event) => {
          if (event.type === 'message' && event.body !== null && event.messageType !== 'error') {
            received++;
            const line = several
              ? { type: 'message', from: event.from, to, body: event.body }
              : { type: 'message', from: event.from, body: event.body };
            // One line per message: a body's own line breaks must not look like another message.
            io.stdout(
              json
                ? JSON.stringify(line)
                : escapeControl(`message from ${event.from}${several ? ` to ${to}` : ''}: ${event.body}`),
            );
            if (wait !== null && received === 1) close();
          } else if (event.type === 'error') {
            fail(event.error.code, event.error.message);
          } else if (event.type === 'closed') {
            if (event.error) fail(event.error.code, event.error.message);
            // A stream the server ended while we were still using it is a failure too.
            if (!closing) {
              fail('closed', `The server closed ${several ? `${to}'s` : 'the'} stream before quiver connect was done.`);
              close();
            }
            onEnded();
          }
        },
        (error) =>
          fail('internal', `quiver connect could not handle what the server sent: ${(error as Error).message}`),
      );
    }
    // Events held since login (a stream error in the same read) may already have ended a stream.
    if (drivers.some((d) => d.state !== 'online')) {
      close();
      return;
    }
    if (send) drivers[0]!.sendMessage({ to: send[0], body: send[1], type: 'chat' });
    if (wait === null) {
      close();
      return;
    }
    // Initial presence: without it the server does not route messages for the bare JID to us (RFC 6121 §8.5.2.1.1).
    for (const driver of drivers) if (driver.state === 'online') driver.sendPresence();
    if (closing) return;
    timer = setTimeout(() => {
      if (received === 0) fail('no-message', `no message arrived within ${wait} s`);
      close();
    }, wait * 1000);
  });
}

/** `--send <jid> <text>`: checked with the other arguments, before anything is sent. */
function sendFlag(args: ReturnType<typeof parseCommandArgs>): [string, string] | null {
  const values = args.flags.get('send')?.[0];
  if (!values) return null;
  const [to, body] = values as [string, string];
  // The stream machine's own check (sendMessage refuses what parseJid refuses), and the contract's
  // check of a contact's address, which refuses spaces and markup in the bare JID.
  const parsed = parseJid(to);
  if (parsed === null || !contactJid(parsed.bare, '--send').ok)
    throw new UsageError(`--send: "${to}" is not a JID like bob@example.org`);
  if (body.trim() === '') throw new UsageError('--send: the message text is empty');
  return [to, body];
}
