/**
 * Roaming (issue 11): the core's answer to a network change. The `NetworkMonitor` reports each
 * burst of changes (addresses, default routes, links, resume from sleep); then, in this order:
 * 1. every QUIC session of the pool moves to a fresh socket and validates a path from the new
 *    address (RFC 9000 §9), with no new handshake; each move is stored as a path event on the
 *    record of every account riding that connection;
 * 2. every account's stream, QUIC or TCP, is asked whether it is alive (a XEP-0199 ping), and
 *    only an account that does not answer reconnects; each answer is stored as a path event.
 * Changes that arrive while one is handled are folded into one more round afterwards.
 *
 * It also binds the per-network transport memory to the network the machine is on now, for the
 * connector (`TransportMemoryAdvisor`): a network that blocks UDP does not pay QUIC's head start
 * every time.
 */
import type { PathEvent } from '../contract/viewModels.ts';
import type { TransportMemoryAdvisor } from '../connect/connector.ts';
import type { NetworkChange, NetworkSnapshot } from '../connect/networkMonitor.ts';
import type { QuicSessions } from '../connect/quicSessions.ts';
import { networkKey, type TransportMemory } from '../connect/transportMemory.ts';
import type { SecurityRecord } from '../contract/viewModels.ts';

/** What roaming needs of a running account. */
export interface RoamingAccount {
  readonly record: SecurityRecord | null;
  checkAlive(timeoutMs: number): Promise<{ outcome: 'alive' | 'dead' | 'offline'; ms: number }>;
}

/** What roaming needs of the network monitor (`NetworkMonitor`; tests pass a fake). */
export interface MonitorLike {
  start(): Promise<void>;
  stop(): void;
  resumed(cause?: 'resume' | 'online'): void;
  readonly snapshot: NetworkSnapshot;
}

export interface RoamingDeps {
  pool: QuicSessions;
  memory: TransportMemory;
  accounts(): RoamingAccount[];
  /** Appends to a stored record's path events (and tells the UI). */
  addPathEvent(recordId: string, event: PathEvent): void;
  log(level: 'info' | 'warn', message: string): void;
  /** Creates the monitor with its change callback; null: no monitoring (tests, `autoConnect: false`). */
  monitor: ((onChange: (change: NetworkChange) => void) => MonitorLike) | null;
  now(): number;
  /** The profile's salt for network keys (`profileSalt`); default none. */
  salt?: string;
  /** How long an account's ping may take after a change before it reconnects (default 5 s). */
  checkTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 5000;

export class Roaming {
  readonly #deps: RoamingDeps;
  #monitor: MonitorLike | null = null;
  #network: string | null = null;
  #busy: Promise<void> | null = null;
  #again: NetworkChange | null = null;

  constructor(deps: RoamingDeps) {
    this.#deps = deps;
  }

  /** Starts watching the network; resolves once the current network is known. */
  async start(): Promise<void> {
    if (!this.#deps.monitor || this.#monitor) return;
    const monitor = this.#deps.monitor((change) => this.#onChange(change));
    this.#monitor = monitor;
    try {
      await monitor.start();
      this.#network = networkKey(monitor.snapshot, this.#deps.salt);
    } catch (error) {
      this.#deps.log('warn', `network monitor: could not start: ${(error as Error).message}`);
    }
  }

  stop(): void {
    this.#monitor?.stop();
    this.#monitor = null;
  }

  /** The Electron shell's powerMonitor 'resume' or the renderer's 'online': NAT bindings are likely gone. */
  resumed(cause: 'resume' | 'online' = 'resume'): void {
    this.#monitor?.resumed(cause);
  }

  /** The connector's view of the transport memory, for the network the machine is on now. */
  readonly advisor: TransportMemoryAdvisor = {
    advice: (domain) => this.#deps.memory.advice(this.#network, domain, this.#deps.now()),
    record: (domain, outcome) => this.#deps.memory.record(this.#network, domain, outcome, this.#deps.now()),
  };

  /** Handles one change now (the monitor's callback; tests call it directly). Resolves when done. */
  handle(change: NetworkChange): Promise<void> {
    this.#onChange(change);
    return this.#busy ?? Promise.resolve();
  }

  #onChange(change: NetworkChange): void {
    this.#network = networkKey(change.snapshot, this.#deps.salt);
    if (this.#busy) {
      this.#again = change;
      return;
    }
    const run = async (first: NetworkChange): Promise<void> => {
      let next: NetworkChange | null = first;
      while (next) {
        this.#again = null;
        try {
          await this.#roam(next);
        } catch (error) {
          this.#deps.log('warn', `roaming: ${(error as Error).message}`);
        }
        next = this.#again;
      }
    };
    this.#busy = run(change).finally(() => {
      this.#busy = null;
    });
  }

  async #roam(change: NetworkChange): Promise<void> {
    if (change.snapshot.addresses.length === 0 || change.snapshot.defaultRouteInterfaces.length === 0) {
      // The old network is gone and no new one is up yet (Wi-Fi off, the hotspot still joining):
      // a socket now would have nowhere to send from, and a ping could only fail. The change that
      // brings a network back starts the next round.
      this.#deps.log('info', `network changed (${change.cause}): no usable network now; waiting for one`);
      return;
    }
    const removed = change.addressesRemoved[0]?.address ?? null;
    const added = change.addressesAdded[0]?.address ?? null;
    this.#deps.log(
      'info',
      `network changed (${change.cause}${removed ? `, ${removed} gone` : ''}${added ? `, ${added} new` : ''}): moving QUIC sessions, checking every account`,
    );
    const reports = await this.#deps.pool.networkChanged({ from: removed, to: added });
    const accounts = this.#deps.accounts();
    for (const report of reports)
      for (const account of accounts) {
        const record = account.record;
        if (record && record.quicConnectionId === report.connectionId) this.#deps.addPathEvent(record.id, report.event);
      }
    const timeoutMs = this.#deps.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    await Promise.all(
      accounts.map(async (account) => {
        const record = account.record;
        if (!record) return;
        const { outcome, ms } = await account.checkAlive(timeoutMs);
        if (outcome === 'offline') return;
        this.#deps.addPathEvent(record.id, {
          at: this.#deps.now(),
          kind: outcome === 'alive' ? 'checked' : 'reconnected',
          from: removed,
          to: added,
          rttBeforeMs: null,
          rttAfterMs: outcome === 'alive' ? ms : null,
          detail:
            outcome === 'alive'
              ? `The stream answered a XEP-0199 ping in ${ms} ms after the network changed.`
              : `No answer to a XEP-0199 ping within ${timeoutMs / 1000} s after the network changed; Quiver connected again.`,
        });
      }),
    );
  }
}
