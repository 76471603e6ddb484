/**
 * One account's life on the network: connect, stay online, reconnect with backoff when the
 * network or the server goes away, and flush the outbox each time the stream is up again.
 * Durable state (messages, roster, security records) goes through the callbacks to storage; this
 * class keeps only what is live (status, presence).
 */
import type { AccountStatus, PresenceView, SecurityRecord, Show, TransportPreference, UserError } from '../contract/viewModels.ts';
import { establish, finish, type ConnectDeps, type Established } from './connector.ts';
import { ConnectError, type DecisionContext } from './connectError.ts';
import type { RosterItem, StreamEvent } from '../xmpp/streamMachine.ts';

export interface SessionCallbacks {
  status(status: AccountStatus, boundJid: string | null, error: UserError | null): void;
  roster(items: RosterItem[], ver: string | null): void;
  rosterPush(item: RosterItem): void;
  presence(bareJid: string, presence: PresenceView | null): void;
  /** An incoming chat message with a body. */
  message(from: string, id: string | null, body: string): void;
  /** Messages waiting to be sent, oldest first; called each time the stream comes online. */
  outbox(): { localId: string; to: string; stanzaId: string; body: string }[];
  /** A message was written to the stream. */
  sent(localId: string): void;
  saveRecord(record: SecurityRecord): void;
  /** No proof held but the person may accept or pin the server: ask them. The session stops retrying. */
  decisionNeeded(context: DecisionContext): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface SessionConfig {
  accountId: string;
  jid: string;
  preference: TransportPreference;
  password(): Promise<string | null>;
  deps(): ConnectDeps;
}

/** Errors a retry cannot fix: the user must act (new password, trust decision). */
const NEEDS_USER = new Set([
  'not-authorized',
  'account-disabled',
  'credentials-expired',
  'no-password',
  'no-service',
  'wrong-name',
  'untrusted',
  'self-signed',
  'bad-trust-anchor',
  'dns-bad-server',
]);
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export class AccountSession {
  #config: SessionConfig;
  #callbacks: SessionCallbacks;
  #current: Established | null = null;
  #running = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  /** Per contact: full JID -> presence; the UI gets the best one. */
  #presence = new Map<string, Map<string, { show: Show; status: string | null; priority: number }>>();

  constructor(config: SessionConfig, callbacks: SessionCallbacks) {
    this.#config = config;
    this.#callbacks = callbacks;
  }

  get online(): boolean {
    return this.#current !== null;
  }

  /** Starts connecting, and keeps the account connected until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    void this.#connect();
  }

  /** Closes the stream cleanly and stops reconnecting. Resolves when the stream has closed. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const current = this.#current;
    if (!current) {
      this.#callbacks.status('offline', null, null);
      return;
    }
    await new Promise<void>((resolve) => {
      current.driver.setEventHandler((event) => {
        this.#onEvent(event);
        if (event.type === 'closed') resolve();
      });
      current.driver.machine.close(Date.now());
      current.driver.pump();
    });
  }

  /** Writes queued messages now if online; otherwise they wait in the outbox. */
  flushOutbox(): void {
    const current = this.#current;
    if (!current) return;
    for (const item of this.#callbacks.outbox()) {
      current.driver.machine.sendMessage({ to: item.to, body: item.body, id: item.stanzaId, type: 'chat' });
      this.#callbacks.sent(item.localId);
    }
    current.driver.pump();
  }

  async #connect(): Promise<void> {
    if (!this.#running) return;
    this.#callbacks.status('connecting', null, null);
    const password = await this.#config.password();
    if (password === null) {
      this.#running = false;
      this.#callbacks.status('error', null, {
        code: 'no-password',
        message: `Quiver has no password for ${this.#config.jid}. Enter it in the account settings.`,
      });
      return;
    }
    let established: Established;
    try {
      established = await establish(
        { jid: this.#config.jid, password, preference: this.#config.preference, accountId: this.#config.accountId },
        this.#config.deps(),
      );
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'internal';
      const message = (error as Error).message;
      this.#callbacks.log('warn', `${this.#config.jid}: ${message}`);
      if (error instanceof ConnectError && error.decision) {
        this.#running = false;
        this.#callbacks.status('error', null, { code: 'needs-decision', message: `${message} Quiver needs your decision.` });
        this.#callbacks.decisionNeeded(error.decision);
        return;
      }
      this.#callbacks.status('error', null, { code, message });
      if (NEEDS_USER.has(code)) this.#running = false;
      else this.#scheduleRetry();
      return;
    }
    if (!this.#running) {
      established.driver.machine.close(Date.now());
      established.driver.pump();
      return;
    }
    this.#attempt = 0;
    this.#current = established;
    established.driver.setEventHandler((event) => this.#onEvent(event));
    this.#callbacks.status('online', established.boundJid, null);
    const machine = established.driver.machine;
    machine.requestRoster();
    machine.sendPresence();
    established.driver.pump();
    this.flushOutbox();
  }

  #onEvent(event: StreamEvent): void {
    switch (event.type) {
      case 'roster':
        this.#callbacks.roster(event.items, event.ver);
        break;
      case 'roster-push':
        this.#callbacks.rosterPush(event.item);
        break;
      case 'presence':
        this.#onPresence(event);
        break;
      case 'message':
        if (event.body !== null && event.messageType !== 'error' && event.messageType !== 'groupchat') {
          this.#callbacks.message(event.from, event.id, event.body);
        }
        break;
      case 'stanza-error':
        this.#callbacks.log('warn', `${this.#config.jid}: ${event.stanzaKind} ${event.id ?? ''} failed: ${event.condition}`);
        break;
      case 'error':
        this.#callbacks.log('warn', `${this.#config.jid}: ${event.error.message}`);
        break;
      case 'closed':
        this.#onClosed(event.error?.message ?? null, event.error?.code ?? null);
        break;
      default:
        break;
    }
  }

  #onPresence(event: Extract<StreamEvent, { type: 'presence' }>): void {
    if (event.presenceType !== 'available' && event.presenceType !== 'unavailable') return;
    const bare = event.from.split('/')[0]!.toLowerCase();
    const resources = this.#presence.get(bare) ?? new Map();
    if (event.presenceType === 'unavailable') resources.delete(event.from);
    else resources.set(event.from, { show: event.show ?? 'available', status: event.status, priority: event.priority });
    this.#presence.set(bare, resources);
    let best: { show: Show; status: string | null; priority: number } | null = null;
    for (const p of resources.values()) if (!best || p.priority > best.priority) best = p;
    this.#callbacks.presence(bare, best ? { show: best.show, status: best.status } : null);
  }

  #onClosed(reason: string | null, code: string | null): void {
    const current = this.#current;
    this.#current = null;
    if (current) finish(current.record, reason ?? 'closed', { saveRecord: (r) => this.#callbacks.saveRecord(r) });
    for (const bare of this.#presence.keys()) this.#callbacks.presence(bare, null);
    this.#presence.clear();
    if (!this.#running) {
      this.#callbacks.status('offline', null, null);
      return;
    }
    this.#callbacks.status('connecting', null, reason ? { code: code ?? 'closed', message: `Connection lost: ${reason}` } : null);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (!this.#running) return;
    const delay = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)]!;
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, delay);
  }
}
