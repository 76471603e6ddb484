/**
 * Notices network changes quickly — interfaces and addresses appearing or going, default route
 * changes, resume from sleep — and reports each burst of them as one `network-changed`
 * notification carrying the current usable local addresses and default-route interfaces, so the
 * QUIC session pool can migrate its paths (issue 11, "Roaming"). Not polling every few seconds:
 * a path change must be seen within a fraction of a second.
 *
 * Per platform:
 * - Linux (implemented): one long-lived `ip -o monitor address route link` child (iproute2), which
 *   relays the kernel's rtnetlink multicast groups (RTMGRP_LINK, RTMGRP_IPV4/6_IFADDR,
 *   RTMGRP_IPV4/6_ROUTE) as text; `networkEvents.ts` parses each line. Lines are debounced
 *   (`debounceMs` after the last one, but at most `maxWaitMs` after the first one of a burst),
 *   then the state is read once: `os.networkInterfaces()` and `ip -o route show default` (IPv4
 *   and IPv6). A burst notifies only if that state changed or a link went up or down: Wi-Fi scans
 *   and the like print link lines that change nothing, and each notification costs every stream
 *   a path validation. If `ip` is missing or the child dies, it is
 *   restarted with exponential backoff and, meanwhile, `os.networkInterfaces()` is polled every
 *   `pollIntervalMs` (one log line when that fallback starts, one when the child is back).
 * - macOS (not yet; polling): `route -n monitor` prints the routing socket's RTM_NEWADDR,
 *   RTM_DELADDR, RTM_IFINFO and RTM_ADD/RTM_DELETE messages and can be driven the same way
 *   (a second parser); SCNetworkReachability / NWPathMonitor would need a native helper.
 * - Windows (not yet; polling): NotifyIpInterfaceChange and NotifyRouteChange2 (iphlpapi) need a
 *   native helper process; until then `os.networkInterfaces()` is polled.
 * - Everywhere: the Electron shell calls `resumed()` on powerMonitor 'resume' and on the
 *   renderer's 'online' event; after sleep, NAT bindings are likely gone even when no address
 *   changed, so that always notifies.
 *
 * Obligations: call `start()` once and `stop()` when done; `stop()` kills the child and clears
 * every timer. Neither the child nor a timer keeps the process alive (all are unref'd): the
 * monitor observes, it is never the reason the process runs. If the process dies without
 * `stop()`, the `ip monitor` child exits on its next write to the closed pipe.
 */
import { execFile, spawn as nodeSpawn } from 'node:child_process';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { MAX_LINE_LENGTH, parseIpMonitorLine, type NetworkEvent } from './networkEvents.ts';

export interface LocalAddress {
  ifname: string;
  family: 'IPv4' | 'IPv6';
  address: string;
  /** The interface's prefix length (`/24`, `/64`), where the platform says it. */
  prefixLength?: number;
}

export interface NetworkSnapshot {
  /** Addresses a new path can use: no loopback, no link-local (169.254/16, fe80::/10). */
  addresses: LocalAddress[];
  /** Interfaces of the main table's default routes, IPv4 and IPv6, without duplicates. */
  defaultRouteInterfaces: string[];
  /** Next hops (`via`) of the default routes, IPv4 and IPv6, without duplicates, where known. */
  defaultGateways?: string[];
}

export interface NetworkChange {
  type: 'network-changed';
  /** What prompted it: kernel events, the polling fallback, or the shell's resume/online input. */
  cause: 'events' | 'poll' | 'resume' | 'online';
  /** The parsed `ip monitor` events of this burst (empty for the other causes). */
  events: NetworkEvent[];
  snapshot: NetworkSnapshot;
  addressesAdded: LocalAddress[];
  addressesRemoved: LocalAddress[];
  defaultRouteChanged: boolean;
}

/** What the monitor needs of a child process; `node:child_process` spawn's result fits. */
export interface MonitorChild {
  readonly stdout: { on(event: 'data', listener: (chunk: Buffer | string) => void): unknown; unref?(): void } | null;
  on(event: 'spawn', listener: () => void): unknown;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  kill(signal?: NodeJS.Signals): boolean;
  unref?(): void;
}

/** One-shot timers; the defaults are Node's, unref'd. Tests pass a simulated clock. */
export interface MonitorTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type MonitorLogLevel = 'info' | 'warn';

export interface NetworkMonitorOptions {
  /** Receives each `network-changed` notification. Must not throw. */
  onChange: (change: NetworkChange) => void;
  /**
   * Quiet time after the last `ip monitor` line before the state is read (default 50 ms: the
   * kernel prints an address and its routes within a few ms; each ms here adds to the roaming gap).
   */
  debounceMs?: number;
  /** Longest wait from the first line of a burst, however closely lines follow (default 300 ms). */
  maxWaitMs?: number;
  /** Polling interval while no change notifications are available (default 10 s). */
  pollIntervalMs?: number;
  /** First restart delay after the child dies; doubles up to `maxBackoffMs` (defaults 1 s, 60 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A restarted child that stays up this long ends the polling fallback (default 10 s). */
  stableMs?: number;
  /** Default `process.platform`; only 'linux' uses `ip monitor`. */
  platform?: NodeJS.Platform;
  /** The change-notification command (default `ip -o monitor address route link`). */
  command?: { file: string; args: string[] };
  spawn?: (file: string, args: string[]) => MonitorChild;
  /** Reads the current state (default: `os.networkInterfaces()` and `ip -o route show default`). */
  readSnapshot?: () => Promise<NetworkSnapshot>;
  timers?: MonitorTimers;
  log?: (level: MonitorLogLevel, message: string) => void;
}

const DEFAULT_COMMAND = { file: 'ip', args: ['-o', 'monitor', 'address', 'route', 'link'] };
/** A partial line longer than this is discarded up to the next newline (a child gone haywire). */
const MAX_PENDING = MAX_LINE_LENGTH * 4;

const defaultTimers: MonitorTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class NetworkMonitor {
  private readonly options: NetworkMonitorOptions;
  private readonly timers: MonitorTimers;
  private readonly log: (level: MonitorLogLevel, message: string) => void;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private child: MonitorChild | null = null;
  private childSpawnedAt = false;
  private pending = '';
  private discarding = false;
  private events: NetworkEvent[] = [];
  private debounceTimer: unknown = null;
  private maxWaitTimer: unknown = null;
  /** Whether a link of the current burst went up or down (see `noteLink`). */
  private linkFlipped = false;
  /** Last reported up/down state per ifindex; bounded, see `noteLink`. */
  private readonly linkUp = new Map<number, boolean>();
  private restartTimer: unknown = null;
  private stableTimer: unknown = null;
  private pollTimer: unknown = null;
  private polling = false;
  private backoffMs: number;
  private last: NetworkSnapshot = { addresses: [], defaultRouteInterfaces: [] };
  /** Serialises reads: a burst that arrives during a read is read again afterwards. */
  private reading: Promise<void> = Promise.resolve();

  constructor(options: NetworkMonitorOptions) {
    this.options = options;
    this.timers = options.timers ?? defaultTimers;
    this.log = options.log ?? ((level, message) => console[level](message));
    this.backoffMs = options.initialBackoffMs ?? 1000;
  }

  /** Reads the baseline state and starts listening. Resolves once the baseline is read. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('NetworkMonitor.start() called twice');
    this.state = 'running';
    if ((this.options.platform ?? process.platform) === 'linux') this.spawnChild();
    else {
      this.log(
        'info',
        `network monitor: no change notifications on this platform yet; polling every ${this.pollMs()} ms`,
      );
      this.startPolling();
    }
    this.reading = this.reading.then(() => this.readBaseline());
    await this.reading;
  }

  /** The Electron shell's input: powerMonitor 'resume' or an 'online' event. Always notifies. */
  resumed(cause: 'resume' | 'online' = 'resume'): void {
    if (this.state !== 'running') return;
    this.enqueueRead(cause, [], true);
  }

  /** Kills the child and clears every timer; no notification follows. Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const t of [this.debounceTimer, this.maxWaitTimer, this.restartTimer, this.stableTimer, this.pollTimer])
      if (t !== null) this.timers.clearTimeout(t);
    this.debounceTimer = this.maxWaitTimer = this.restartTimer = this.stableTimer = this.pollTimer = null;
    this.polling = false;
    const child = this.child;
    this.child = null;
    child?.kill('SIGTERM');
  }

  /** The network as last read (the baseline after `start`, then after each burst). */
  get snapshot(): NetworkSnapshot {
    return this.last;
  }

  /** Whether the polling fallback is active (tests, diagnostics). */
  get isPolling(): boolean {
    return this.polling;
  }

  private pollMs(): number {
    return this.options.pollIntervalMs ?? 10_000;
  }

  private spawnChild(): void {
    const { file, args } = this.options.command ?? DEFAULT_COMMAND;
    const spawn = this.options.spawn ?? defaultSpawn;
    let child: MonitorChild;
    try {
      child = spawn(file, args);
    } catch (error) {
      this.onChildGone(null, `could not start ${file}: ${describe(error)}`);
      return;
    }
    this.child = child;
    this.childSpawnedAt = false;
    this.pending = '';
    this.discarding = false;
    child.unref?.();
    child.stdout?.unref?.();
    child.on('spawn', () => {
      if (this.child !== child) return;
      this.childSpawnedAt = true;
      if (this.polling)
        this.stableTimer = this.timers.setTimeout(() => this.onStable(child), this.options.stableMs ?? 10_000);
    });
    child.stdout?.on('data', (chunk) => {
      if (this.child === child) this.onData(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    });
    child.on('error', (error) => this.onChildGone(child, `${file} failed: ${describe(error)}`));
    child.on('exit', (code, signal) =>
      this.onChildGone(child, `${file} exited (${signal ?? `code ${code ?? 'unknown'}`})`),
    );
  }

  private onStable(child: MonitorChild): void {
    this.stableTimer = null;
    if (this.child !== child || this.state !== 'running') return;
    this.stopPolling();
    this.backoffMs = this.options.initialBackoffMs ?? 1000;
    this.log('info', 'network monitor: `ip monitor` is running again; polling stopped');
  }

  /** Called for 'error' and 'exit' alike (a failed spawn emits only 'error'; a crash both). */
  private onChildGone(child: MonitorChild | null, reason: string): void {
    if (this.state !== 'running' || (child !== null && this.child !== child)) return;
    this.child = null;
    if (this.stableTimer !== null) this.timers.clearTimeout(this.stableTimer);
    this.stableTimer = null;
    if (child !== null && this.childSpawnedAt) child.kill('SIGTERM');
    if (!this.polling) {
      this.log(
        'warn',
        `network monitor: ${reason}; network changes are now noticed by polling every ${this.pollMs()} ms` +
          `${/ENOENT/.test(reason) ? ' (install iproute2 for immediate notice)' : ''}; retrying in the background`,
      );
      this.startPolling();
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(delay * 2, this.options.maxBackoffMs ?? 60_000);
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = null;
      if (this.state === 'running') this.spawnChild();
    }, delay);
  }

  private onData(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        this.pending = '';
        continue;
      }
      const line = this.pending + piece;
      this.pending = '';
      this.onLine(line);
    }
    if (this.discarding) return;
    this.pending += text.slice(start);
    if (this.pending.length > MAX_PENDING) {
      this.pending = '';
      this.discarding = true;
    }
  }

  private onLine(line: string): void {
    const event = parseIpMonitorLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (event === null) return;
    // A burst is bounded by what one read reports; past that, the count adds nothing.
    if (this.events.length < 256) this.events.push(event);
    if (event.kind === 'link' && this.noteLink(event.ifindex, event.up)) this.linkFlipped = true;
    if (this.maxWaitTimer === null)
      this.maxWaitTimer = this.timers.setTimeout(() => this.endBurst(), this.options.maxWaitMs ?? 300);
    if (this.debounceTimer !== null) this.timers.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.timers.setTimeout(() => this.endBurst(), this.options.debounceMs ?? 50);
  }

  private endBurst(): void {
    for (const t of [this.debounceTimer, this.maxWaitTimer]) if (t !== null) this.timers.clearTimeout(t);
    this.debounceTimer = this.maxWaitTimer = null;
    const events = this.events;
    const always = this.linkFlipped;
    this.events = [];
    this.linkFlipped = false;
    this.enqueueRead('events', events, always);
  }

  /**
   * Records a link's up/down state and says whether it flipped. A link not seen before counts as
   * flipped only when it is down: its earlier state is unknown, and a path over a link that went
   * down is dead even while its addresses stay; one that comes up gets addresses, which show in
   * the state read. The map is cleared past 1024 links (a hostile child), which costs at most one
   * extra notification per link.
   */
  private noteLink(ifindex: number, up: boolean): boolean {
    const before = this.linkUp.get(ifindex);
    if (before === undefined && this.linkUp.size >= 1024) this.linkUp.clear();
    this.linkUp.set(ifindex, up);
    return before === undefined ? !up : before !== up;
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.armPoll();
  }

  private armPoll(): void {
    this.pollTimer = this.timers.setTimeout(() => {
      this.pollTimer = null;
      if (!this.polling || this.state !== 'running') return;
      this.enqueueRead('poll', [], false);
      this.armPoll();
    }, this.pollMs());
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer !== null) this.timers.clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private enqueueRead(cause: NetworkChange['cause'], events: NetworkEvent[], always: boolean): void {
    this.reading = this.reading.then(() => this.readAndNotify(cause, events, always));
  }

  private async readBaseline(): Promise<void> {
    const snapshot = await this.read();
    if (snapshot !== null) this.last = snapshot;
  }

  private async readAndNotify(cause: NetworkChange['cause'], events: NetworkEvent[], always: boolean): Promise<void> {
    if (this.state !== 'running') return;
    const snapshot = await this.read();
    if (snapshot === null || this.state !== 'running') return;
    const change = diffSnapshots(this.last, snapshot);
    this.last = snapshot;
    const changed =
      change.addressesAdded.length > 0 || change.addressesRemoved.length > 0 || change.defaultRouteChanged;
    if (!always && !changed) return;
    try {
      this.options.onChange({ type: 'network-changed', cause, events, snapshot, ...change });
    } catch (error) {
      this.log('warn', `network monitor: a network-changed listener threw: ${describe(error)}`);
    }
  }

  private async read(): Promise<NetworkSnapshot | null> {
    try {
      return await (this.options.readSnapshot ?? readSystemSnapshot)();
    } catch (error) {
      this.log('warn', `network monitor: could not read the network state: ${describe(error)}`);
      return null;
    }
  }
}

/** Which addresses came and went, and whether the default-route interfaces differ. */
export function diffSnapshots(
  before: NetworkSnapshot,
  after: NetworkSnapshot,
): Pick<NetworkChange, 'addressesAdded' | 'addressesRemoved' | 'defaultRouteChanged'> {
  const key = (a: LocalAddress): string => `${a.ifname}|${a.address}`;
  const had = new Set(before.addresses.map(key));
  const has = new Set(after.addresses.map(key));
  const routesBefore = [...before.defaultRouteInterfaces].sort().join(',');
  const routesAfter = [...after.defaultRouteInterfaces].sort().join(',');
  return {
    addressesAdded: after.addresses.filter((a) => !had.has(key(a))),
    addressesRemoved: before.addresses.filter((a) => !has.has(key(a))),
    defaultRouteChanged: routesBefore !== routesAfter,
  };
}

/** `os.networkInterfaces()` without loopback and link-local addresses. */
export function usableAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [ifname, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4' && info.address.startsWith('169.254.')) continue;
      if (info.family === 'IPv6' && /^fe[89ab]/i.test(info.address)) continue;
      const prefixLength = Number(info.cidr?.split('/')[1]);
      out.push({
        ifname,
        family: info.family,
        address: info.address,
        ...(Number.isInteger(prefixLength) ? { prefixLength } : {}),
      });
    }
  }
  return out;
}

/** The machine's network now, read once (`quiver connect` keys its transport memory with it). */
export async function readSystemSnapshot(): Promise<NetworkSnapshot> {
  const [v4, v6] = await Promise.all([
    runIp(['-o', '-4', 'route', 'show', 'default']),
    runIp(['-o', '-6', 'route', 'show', 'default']),
  ]);
  return { addresses: usableAddresses(networkInterfaces()), ...defaultRoutes(`${v4}\n${v6}`) };
}

/** The interfaces and gateways of the default routes in `ip -o route show default` output. */
export function defaultRoutes(output: string): Pick<NetworkSnapshot, 'defaultRouteInterfaces' | 'defaultGateways'> {
  const devs = new Set<string>();
  const gateways = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('default')) continue;
    // Every `dev` and `via`: a multipath route lists its next hops as `nexthop via ... dev ...`.
    for (const m of line.matchAll(/ dev (\S+)/g)) devs.add(m[1]!);
    for (const m of line.matchAll(/ via (?:inet6? )?(\S+)/g)) gateways.add(m[1]!);
  }
  return { defaultRouteInterfaces: [...devs], defaultGateways: [...gateways] };
}

/** Output of `ip <args>`, or '' where there is no iproute2 (other platforms): no route facts then. */
function runIp(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('ip', args, { timeout: 2000, maxBuffer: 1 << 20 }, (error, stdout) =>
      resolve(error ? '' : stdout),
    );
    child.unref();
  });
}

function defaultSpawn(file: string, args: string[]): MonitorChild {
  // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the child
  // must not die (and be reported as lost) before the core stops it. If Quiver dies without
  // `stop()`, the child exits on its next write to the closed pipe.
  return nodeSpawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
