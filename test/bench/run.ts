/**
 * `npm run bench`: Quiver's QUIC, @matrixai/quic (quiche) and node:tls over TCP, side by side in
 * one run on loopback. Prints one table. Each transport is measured the same way:
 *   - handshake: median of fresh connections (client and server in one process);
 *   - throughput: one stream, client -> server, with 200-byte and 16 KiB writes, after a warm-up
 *     transfer of each on the same connection: the median of three runs each, the transports
 *     taking turns (this machine is shared: its speed drifts by a third within minutes);
 *   - CPU seconds per MB (both ends, they share their process);
 *   - memory per idle connection and per open stream (heap + external after GC);
 *   - the longest event-loop stall during the 16 KiB transfers.
 *
 * Then issue 11's tables at 50 ms RTT in network namespaces: accounts bound over one shared QUIC
 * session, direct TLS and STARTTLS (accountsTable.ts), and the QUIC roaming gap (roamingTable.ts).
 * Issue 12's: back online after a network change (reconnectTable.ts) and 10 accounts from a warm
 * start (warmStartTable.ts), also at 50 ms RTT in a namespace; and the messages lost, duplicated
 * or reordered in each fault run (faultsTable.ts runs the fault tests once against a lab of its own).
 *
 * Each transport runs in a process of its own (this file again, with `--subject N`), driven
 * from here over IPC: @matrixai/quic's native addon slows all JavaScript in the process that
 * loads it, and one subject's garbage must not be collected during another's run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Conn, Subject } from './subject.ts';

const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 40);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 20);
const STREAMS = 50;
/** Throughput runs per write size; the table shows the median. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** A Quiver row: `cap` limits path MTU discovery (undefined: none but the path's). */
const quiverRow = (cap: number | undefined, label: string): { label: string; load: () => Promise<Subject> } => ({
  label,
  load: async () => (await import('./subjects/quiver.ts')).quiver(cap, label),
});

/** The transports, in table order; each is loaded only in its own process. */
const SUBJECTS: { label: string; load: () => Promise<Subject> }[] = [
  // As Quiver runs: path MTU discovery up to what the interface carries (loopback: 64 KiB, as
  // for TCP below; Ethernet: 1500 bytes).
  quiverRow(undefined, 'Quiver QUIC (PMTU discovery)'),
  // Discovery capped at Ethernet-sized and at the minimum datagrams, for comparison.
  quiverRow(1452, 'Quiver QUIC (capped)'),
  quiverRow(1200, 'Quiver QUIC (no discovery)'),
  { label: '@matrixai/quic 2.0.9', load: async () => (await import('./subjects/matrixai.ts')).matrixai() },
  { label: 'node:tls over TCP', load: async () => (await import('./subjects/nodeTls.ts')).nodeTls() },
];

interface Alone {
  handshakeMs: number;
  idleKiB: number;
  streamKiB: number;
}

interface Timed {
  rate: number;
  cpuMicros: number;
  stallMs: number;
}

/** Parent -> subject process. Every request gets one reply. */
type Request = { cmd: 'alone' } | { cmd: 'prepare' } | { cmd: 'timed'; size: 'small' | 'large' } | { cmd: 'finish' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// ------------------------------------------------------------------------------------------------
// In a subject's process

async function serveSubject(subject: Subject): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  /** Heap + external bytes once the last transfer's acknowledgments and sends have settled. */
  const memory = async (): Promise<number> => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };

  /** Handshake time and memory. */
  const alone = async (): Promise<Alone> => {
    await subject.setup();
    // Handshake: warm up (the JIT), then the median.
    for (let i = 0; i < 10; i++) await (await subject.connect()).close();
    const times: number[] = [];
    for (let i = 0; i < HANDSHAKES; i++) {
      const t0 = performance.now();
      const c = await subject.connect();
      times.push(performance.now() - t0);
      await c.close();
    }
    // Memory per open stream.
    const conn = await subject.connect();
    let before = await memory();
    await conn.openStreams(STREAMS);
    const streamKiB = ((await memory()) - before) / STREAMS / 1024;
    await conn.close();
    // Memory per idle connection.
    before = await memory();
    const idle: Conn[] = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i++) idle.push(await subject.connect());
    const idleKiB = ((await memory()) - before) / IDLE_CONNECTIONS / 1024;
    for (const c of idle) await c.close();
    await subject.teardown();
    return { handshakeMs: median(times), idleKiB, streamKiB };
  };

  let conn: Conn | null = null;
  const prepare = async (): Promise<void> => {
    await subject.setup();
    // TLS needs the server-side socket hooked before data flows: connect after setting the hook.
    conn = await subject.connect();
    // Warm up the data path first (JIT, buffers, the congestion window): steady state is measured.
    await conn.transfer(subject.bytes.small / 4, 200);
    await conn.transfer(subject.bytes.large / 8, 16384);
  };

  /** One timed transfer, with its CPU time and longest event-loop stall. */
  const timed = async (size: 'small' | 'large'): Promise<Timed> => {
    const bytes = subject.bytes[size];
    const chunk = size === 'small' ? 200 : 16384;
    // A collection now rather than during the run; a short transfer then lets the heap grow
    // back to its working size (a collected heap starts small).
    gc();
    await conn!.transfer(bytes / 8, chunk);
    // A histogram per run: one re-enabled would count the time it was off as a stall.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const cpu0 = process.cpuUsage();
    loop.enable();
    const t0 = performance.now();
    await conn!.transfer(bytes, chunk);
    const seconds = (performance.now() - t0) / 1000;
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    return { rate: bytes / 1e6 / seconds, cpuMicros: cpu.user + cpu.system, stallMs: loop.max / 1e6 };
  };

  process.on('message', (request: Request) => {
    const reply = async (): Promise<unknown> => {
      switch (request.cmd) {
        case 'alone':
          return alone();
        case 'prepare':
          return prepare();
        case 'timed':
          return timed(request.size);
        case 'finish':
          await conn?.close();
          await subject.teardown();
          // Quiver's row names the datagram size it used: known now.
          return { name: subject.name, large: subject.bytes.large };
      }
    };
    reply().then(
      (value) => {
        process.send!({ ok: true, value: value ?? null });
        if (request.cmd === 'finish') process.disconnect();
      },
      (error: unknown) =>
        process.send!({ ok: false, error: String(error instanceof Error ? (error.stack ?? error.message) : error) }),
    );
  });
}

// ------------------------------------------------------------------------------------------------
// The parent: one process per subject, taking turns

class SubjectProcess {
  readonly label: string;
  private readonly child: ChildProcess;
  private pending: ((reply: { ok: boolean; value?: unknown; error?: string }) => void) | null = null;

  constructor(index: number, label: string) {
    this.label = label;
    this.child = fork(new URL(import.meta.url).pathname, ['--subject', String(index)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: { ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending;
      this.pending = null;
      p?.(reply);
    });
    this.child.on('exit', (code) => {
      if (this.pending) this.pending({ ok: false, error: `${label}: its process exited (${code})` });
    });
  }

  ask<T>(request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending = (reply) =>
        reply.ok ? resolve(reply.value as T) : reject(new Error(`${this.label}: ${reply.error}`));
      this.child.send(request);
    });
  }
}

interface Row extends Alone {
  name: string;
  small: number;
  large: number;
  cpuPerMb: number;
  stallMs: number;
}

async function runAll(): Promise<Row[]> {
  const only = process.env.BENCH_ONLY;
  const chosen = SUBJECTS.map((s, index) => ({ ...s, index })).filter((s) => !only || s.label.includes(only));
  const procs = chosen.map((s) => new SubjectProcess(s.index, s.label));
  // Handshakes and memory one transport at a time; then throughput with all of them up, taking
  // turns (run r of every transport before run r + 1 of any), so drift slows them alike.
  const alone: Alone[] = [];
  for (const p of procs) alone.push(await p.ask<Alone>({ cmd: 'alone' }));
  for (const p of procs) await p.ask({ cmd: 'prepare' });
  const small = procs.map((): number[] => []);
  const large = procs.map((): number[] => []);
  const cpuMicros = procs.map(() => 0);
  const stalls = procs.map(() => 0);
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < procs.length; i++)
      small[i]!.push((await procs[i]!.ask<Timed>({ cmd: 'timed', size: 'small' })).rate);
  }
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < procs.length; i++) {
      const run = await procs[i]!.ask<Timed>({ cmd: 'timed', size: 'large' });
      large[i]!.push(run.rate);
      cpuMicros[i]! += run.cpuMicros;
      stalls[i] = Math.max(stalls[i]!, run.stallMs);
    }
  }
  const rows: Row[] = [];
  for (let i = 0; i < procs.length; i++) {
    const done = await procs[i]!.ask<{ name: string; large: number }>({ cmd: 'finish' });
    rows.push({
      name: done.name,
      ...alone[i]!,
      small: median(small[i]!),
      large: median(large[i]!),
      cpuPerMb: cpuMicros[i]! / 1e6 / ((RUNS * done.large) / 1e6),
      stallMs: stalls[i]!,
    });
  }
  return rows;
}

function print(rows: Row[]): void {
  const header = [
    'transport',
    'handshake ms (median)',
    'MB/s 200 B writes',
    'MB/s 16 KiB writes',
    'CPU s/MB',
    'KiB/idle conn',
    'KiB/stream',
    'max stall ms',
  ];
  const lines = rows.map((r) => [
    r.name,
    r.handshakeMs.toFixed(2),
    r.small.toFixed(1),
    r.large.toFixed(1),
    r.cpuPerMb.toFixed(4),
    r.idleKiB.toFixed(1),
    r.streamKiB.toFixed(2),
    r.stallMs.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(fmt(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(fmt(l));
  const m = rows.find((r) => r.name.startsWith('@matrixai'));
  const t = rows.find((r) => r.name.startsWith('node:tls'));
  if (!m || !t) return;
  console.log('');
  const ratio = (a: number, b: number): string => (a / b).toFixed(1) + 'x';
  for (const q of rows.filter((r) => r.name.startsWith('Quiver'))) {
    console.log(
      `${q.name}: Quiver/@matrixai ${ratio(q.small, m.small)} (200 B writes), ${ratio(q.large, m.large)} (16 KiB writes) (target >= 30x); ` +
        `node:tls/Quiver ${ratio(t.small, q.small)}, ${ratio(t.large, q.large)} (target <= 3x)`,
    );
  }
}

const at = process.argv.indexOf('--subject');
if (at >= 0) {
  await serveSubject(await SUBJECTS[Number(process.argv[at + 1])]!.load());
} else {
  // BENCH_TABLES=transports,accounts,roaming,reconnect,warmstart,faults,chat,search (the default: all) picks tables.
  const tables = (
    process.env.BENCH_TABLES ?? 'transports,accounts,roaming,reconnect,warmstart,faults,chat,search'
  ).split(',');
  if (tables.includes('transports')) print(await runAll());
  // Issue 11's tables, in network namespaces at 50 ms RTT (skipped, with the reason, without root).
  if (tables.includes('accounts')) {
    console.log('');
    await (await import('./accountsTable.ts')).accountsTable();
  }
  if (tables.includes('roaming')) {
    console.log('');
    await (await import('./roamingTable.ts')).roamingTable();
  }
  // Issue 12's tables, in network namespaces at 50 ms RTT: back online after a network change, and
  // 10 accounts from a warm start (reconnectTable.ts, warmStartTable.ts).
  if (tables.includes('reconnect')) {
    console.log('');
    await (await import('./reconnectTable.ts')).reconnectTable();
  }
  if (tables.includes('warmstart')) {
    console.log('');
    await (await import('./warmStartTable.ts')).warmStartTable();
  }
  // And the messages lost or duplicated in every fault run (the fault tests, run once here).
  if (tables.includes('faults')) {
    console.log('');
    await (await import('./faultsTable.ts')).faultsTable();
  }
  // Issue 13's: a 100,000-message chat in Chromium, open to first paint and scrolling to its start.
  if (tables.includes('chat')) {
    console.log('');
    await (await import('./chatScrollTable.ts')).chatScrollTable();
  }
  // And search.run over a 100,000-message profile, the old way and the new (searchTable.ts).
  if (tables.includes('search')) {
    console.log('');
    await (await import('./searchTable.ts')).searchTable();
  }
  process.exit(0);
}
