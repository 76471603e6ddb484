/**
 * The accounts that are connected or connecting: one `AccountSession` per enabled account, the state
 * the UI sees of it (status, bound JID, error, presence), and what its callbacks do with what the
 * server sends (roster, messages, the outbox, security records).
 */
import { createHash } from 'node:crypto';
import type {
  AccountStatus,
  AccountView,
  EventEnvelope,
  PresenceView,
  RosterItemView,
  SecurityRecord,
  UserError,
} from '../contract/index.ts';
import type { AccountRow, Storage } from '../storage/storage.ts';
import type { SecretStore } from '../storage/secretStore.ts';
import { AccountSession } from '../connect/accountSession.ts';
import type { SessionContacts } from '../connect/sessionContacts.ts';
import { buildConnectDeps } from '../connect/connectDeps.ts';
import type { TransportMemoryAdvisor } from '../connect/connector.ts';
import type { QuicSessions } from '../connect/quicSessions.ts';
import type { PathEvent } from '../contract/viewModels.ts';
import type { DecisionContext } from '../connect/connectError.ts';
import { normalizeBareJid } from '../storage/normalizeJid.ts';
import { accountLabel } from '../storage/accountLabel.ts';
import { contactEvents } from './contacts.ts';
import { storeIncomingMessage } from './incomingMessage.ts';
import { archiveStart } from './archiveStart.ts';
import { statusText } from './statusText.ts';
import type { Candidate } from '../connect/candidate.ts';
import { mayRefuse } from './mayRefuse.ts';

export interface LiveAccountsDeps {
  storage: Storage;
  secrets: SecretStore;
  emit(event: EventEnvelope): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** The keys the person accepted once, taken by each connection attempt as it starts. */
  takeAcceptedOnce(accountId: string): ReadonlySet<string>;
  /** A connection attempt stopped at a certificate only the person can decide on. */
  decisionNeeded(accountId: string, jid: string, context: DecisionContext): void;
  /** The process's QUIC session pool: accounts reaching the same server share a session. */
  quic: QuicSessions | null;
  /** The per-network memory of whether QUIC works, bound to the current network. */
  transportMemory: TransportMemoryAdvisor | null;
  /** Told about stored messages and roster changes, to send conversation.changed (core/conversations.ts). */
  conversations?: {
    touched(accountId: string, peer: string): void;
    rosterChanged(accountId: string, jids: readonly string[]): void;
  };
  /**
   * Where an account's first XEP-0313 catch-up starts (ms since the epoch). Default: a week back,
   * what servers keep by default (Prosody's archive_expires_after), without downloading years of
   * history. `quiver connect --db` starts at the account's creation: only what arrived since counts.
   */
  firstCatchUpStart?(account: AccountRow): number;
  /**
   * XEP-0484: where each account's FAST token is kept. Default: storage (the profile database,
   * 0600), so the next start signs in with it. `quiver connect --db` keeps tokens in memory only:
   * its database is a test artefact, and the password given on the command line must count.
   */
  fastTokens?: {
    load(accountId: string): { mechanism: string; token: string; expiry: number } | null;
    save(accountId: string, token: { mechanism: string; token: string; expiry: number } | null): void;
  };
}

/**
 * The resource an account asks for, the same on every login and after a restart, so a message
 * sent again comes from the same full JID and recipients recognise it by its origin-id (XEP-0359
 * §2.2). Derived from the local account id; it names nothing about the machine.
 */
function stableResource(accountId: string): string {
  return `quiver-${createHash('sha256').update(accountId).digest('hex').slice(0, 8)}`;
}

/**
 * XEP-0388 §2.2: "a UUID v4 ... stable" per client install: one per account here (tokens and the
 * server's list of the account's clients are per account anyway), derived from the local account
 * id so it needs no storage and changes when the account is removed and added again.
 */
function userAgentId(accountId: string): string {
  const h = createHash('sha256').update(`user-agent:${accountId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What the UI sees of one running account. */
interface Live {
  session: AccountSession;
  status: AccountStatus;
  /** The candidate the attempt in flight tried last (connectDeps `attempting`), while connecting. */
  attempt: Candidate | null;
  /** The back-off before the next attempt, when one is scheduled. */
  retryInMs: number | null;
  /** The words the UI last got (`view`), so a change elsewhere (QUIC sharing) is told only when they change. */
  statusText: string;
  boundJid: string | null;
  error: UserError | null;
  presence: Map<string, PresenceView>;
  /** XEP-0191: the server offers blocking (the last fresh login's disco#info said so). */
  canBlock: boolean;
}

export class LiveAccounts {
  readonly #deps: LiveAccountsDeps;
  readonly #live = new Map<string, Live>();
  #clientState: 'active' | 'inactive' = 'active';

  constructor(deps: LiveAccountsDeps) {
    this.#deps = deps;
  }

  /** The account as the UI shows it: its row, with the state of its session when one runs. */
  view(row: AccountRow): AccountView {
    const state = this.#live.get(row.id);
    return {
      id: row.id,
      jid: row.jid,
      enabled: row.enabled,
      status: row.enabled ? (state?.status ?? 'offline') : 'disabled',
      statusText: this.#statusText(row.enabled, state),
      boundJid: state?.boundJid ?? null,
      error: state?.error ?? null,
      settings: row.settings,
      // The default tells accounts on the same server apart (accountLabel.ts); core.ts re-announces
      // the accounts whose default changes when one is added or removed.
      label: accountLabel(
        row,
        this.#deps.storage.listAccounts().map((other) => other.jid),
      ),
      color: row.color,
      order: row.sortOrder,
      presence: this.#deps.storage.ownPresence(row.id),
      canBlock: state?.canBlock ?? false,
    };
  }

  /** The stored roster with the presence this session has seen. */
  rosterView(accountId: string): RosterItemView[] {
    const presence = this.#live.get(accountId)?.presence;
    return this.#deps.storage
      .listRoster(accountId)
      .map((item) => ({ ...item, presence: presence?.get(item.jid) ?? null }));
  }

  /** Starts a session for the account unless one runs already. */
  start(row: AccountRow): void {
    if (this.#live.has(row.id)) return;
    const state = this.#create(row);
    this.#live.set(row.id, state);
    state.session.setClientState(this.#clientState);
    state.session.start();
  }

  /** Stops the account's session, if any; resolves when its stream is closed. */
  async stop(accountId: string): Promise<void> {
    const state = this.#live.get(accountId);
    if (!state) return;
    this.#live.delete(accountId);
    await state.session.stop();
  }

  /** Stops the account's session and starts a new one if the account is (still) enabled. */
  async reconnect(accountId: string): Promise<void> {
    await this.stop(accountId);
    const row = this.#deps.storage.getAccount(accountId);
    if (row?.enabled) this.start(row);
  }

  /** Takes the account offline and disabled, showing `error` until it is enabled again. */
  async disable(accountId: string, error: UserError): Promise<void> {
    const state = this.#live.get(accountId);
    if (state) {
      state.status = 'error';
      state.error = error;
    }
    const row = this.#deps.storage.setAccountEnabled(accountId, false);
    this.#deps.emit({ name: 'account.changed', payload: { account: this.view(row) } });
    await this.stop(accountId);
  }

  /** The contacts part of the account's running session (null when none runs). */
  contacts(accountId: string): SessionContacts | null {
    return this.#live.get(accountId)?.session.contacts ?? null;
  }

  /**
   * `account.retry`: the account tries now instead of waiting out its back-off; one that gave up
   * (a refused login, an error only the person could fix) starts again. Nothing happens while an
   * attempt runs or the account is online. The caller checks the account exists and is enabled.
   */
  async retry(row: AccountRow): Promise<void> {
    const state = this.#live.get(row.id);
    if (state?.session.retryNow()) return;
    if (state && (state.status === 'connecting' || state.status === 'online')) return;
    await this.reconnect(row.id);
  }

  /** Sends what the outbox holds now, when the account is online (else its next login does). */
  flushOutbox(accountId: string): void {
    this.#live.get(accountId)?.session.flushOutbox();
  }

  /** XEP-0352: the window is seen ('active') or hidden ('inactive'); every account, now and after reconnects. */
  setClientState(state: 'active' | 'inactive'): void {
    this.#clientState = state;
    for (const live of this.#live.values()) live.session.setClientState(state);
  }

  /** XEP-0085: tells `peer` the person's chat state, when the account is online and the contact understands them. */
  sendChatState(accountId: string, peer: string, state: 'active' | 'composing' | 'paused' | 'inactive'): void {
    this.#live.get(accountId)?.session.sendChatState(normalizeBareJid(peer), state);
  }

  /** The sessions running now (roaming checks each after a network change). */
  sessions(): AccountSession[] {
    return [...this.#live.values()].map((state) => state.session);
  }

  /** Appends a path event to a stored connection record and tells the UI. */
  addPathEvent(recordId: string, event: PathEvent): void {
    const record = this.#deps.storage.addPathEvent(recordId, event);
    // The live session's copy too, so later saves and views show it.
    for (const state of this.#live.values()) {
      const live = state.session.record;
      if (live?.id === recordId) live.pathEvents = record.pathEvents;
    }
    this.#deps.emit({ name: 'connection.recorded', payload: { record } });
  }

  /** Stops every session; resolves when all streams are closed. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#live.keys()].map((id) => this.stop(id)));
  }

  #create(row: AccountRow): Live {
    const { storage, secrets, emit, log } = this.#deps;
    const accountId = row.id;
    const state: Omit<Live, 'session'> = {
      status: 'offline',
      attempt: null,
      retryInMs: null,
      statusText: 'offline',
      boundJid: null,
      error: null,
      presence: new Map(),
      canBlock: false,
    };
    const rosterChanged = () => {
      emit({ name: 'roster.changed', payload: { accountId, items: this.rosterView(accountId) } });
      // Names and the stranger flag of this account's conversations may follow.
      this.#deps.conversations?.rosterChanged(accountId, storage.conversationPeers(accountId));
    };
    const session = new AccountSession(
      {
        accountId,
        jid: row.jid,
        preference: row.settings.transport,
        resource: stableResource(accountId),
        userAgentId: userAgentId(accountId),
        password: () => secrets.get(accountId, row.jid),
        deps: () => ({
          ...buildConnectDeps(
            storage.getAccount(accountId)?.settings ?? row.settings,
            storage.getGlobalSettings(),
            (record) => this.#saveRecord(record),
            {
              storage,
              accountId,
              acceptOnce: this.#deps.takeAcceptedOnce(accountId),
              quic: this.#deps.quic,
              transportMemory: this.#deps.transportMemory,
            },
          ),
          attempting: (candidate) => {
            state.attempt = candidate;
            this.#tellIfWordsChanged(accountId);
          },
        }),
      },
      {
        status: (status, boundJid, error) => {
          state.status = status;
          state.boundJid = boundJid;
          state.error = error;
          // Each attempt starts with 'connecting' and names its candidate once it tries one.
          state.attempt = null;
          state.retryInMs = null;
          const current = storage.getAccount(accountId);
          if (current) emit({ name: 'account.changed', payload: { account: this.view(current) } });
          // Online or gone, this account changes how many share its QUIC connection.
          for (const other of this.#live.keys()) if (other !== accountId) this.#tellIfWordsChanged(other);
        },
        retryScheduled: (delayMs) => {
          state.retryInMs = delayMs;
          this.#tellIfWordsChanged(accountId);
        },
        roster: (items, ver) => {
          storage.replaceRoster(
            accountId,
            items.filter((item) => this.#acceptableJid(item.jid, 'roster item')),
            ver,
          );
          rosterChanged();
        },
        rosterPush: (item) => {
          if (!this.#acceptableJid(item.jid, 'roster push')) return;
          storage.upsertRosterItem(accountId, item);
          rosterChanged();
        },
        presence: (jid, presence) => {
          if (presence) state.presence.set(jid, presence);
          else state.presence.delete(jid);
          emit({ name: 'presence.changed', payload: { accountId, jid, presence } });
        },
        message: (incoming) => {
          if (!this.#acceptableJid(incoming.from, 'message sender')) return { outcome: 'refused', at: null };
          if (!this.#acceptableJid(incoming.peer, 'message recipient')) return { outcome: 'refused', at: null };
          return storeIncomingMessage(
            { storage, emit, log, conversations: this.#deps.conversations },
            accountId,
            row.jid,
            incoming,
          );
        },
        outbox: (scope) =>
          storage
            .pendingMessages(accountId)
            // A message written where no ack could come is not sent again: it may have arrived.
            .filter(({ message, smSeq }) =>
              scope === 'queued' ? message.state === 'queued' : message.state === 'queued' || smSeq !== null,
            )
            .map(({ message: m }) => ({ localId: m.id, to: m.peer, stanzaId: m.stanzaId, body: m.body })),
        sent: (localId, smSeq) => {
          const message = storage.markSent(localId, smSeq);
          if (message) emit({ name: 'message.updated', payload: { message } });
        },
        unconfirmable: (localIds) => {
          for (const localId of localIds) storage.markSent(localId, null);
        },
        acked: (stanzaIds) => {
          // XEP-0198: the server stored these; ids of iqs and presences, or of messages already
          // further along, change nothing.
          for (const message of storage.ackStanzaIds(accountId, stanzaIds))
            emit({ name: 'message.updated', payload: { message } });
        },
        refused: (stanzaId, from, reason) => {
          for (const ours of storage.ourMessagesByStanzaId(accountId, stanzaId)) {
            if (!['queued', 'sent', 'acked'].includes(ours.state)) continue;
            if (!mayRefuse(from, ours.peer, row.jid)) continue;
            emit({ name: 'message.updated', payload: { message: storage.setMessageState(ours.id, 'failed', reason) } });
          }
        },
        receipt: (from, ourId) => {
          // XEP-0184: only the recipient of our message can confirm it (a receipt from anyone else
          // names an id it may have guessed).
          if (!this.#acceptableJid(from, 'receipt sender')) return;
          const ours = storage.findMessageByStanzaId(accountId, 'out', from, ourId);
          if (!ours || !['queued', 'sent', 'acked'].includes(ours.state)) return;
          emit({ name: 'message.updated', payload: { message: storage.setMessageState(ours.id, 'delivered') } });
        },
        archiveStart: () => archiveStart(storage, accountId, Date.now(), this.#deps.firstCatchUpStart?.(row)),
        archiveProgress: (lastId, complete, floor) =>
          storage.setArchivePosition(accountId, { lastId, lastAt: Date.now(), complete, historyAt: floor }),
        chatState: (from, chatState) => {
          if (!this.#acceptableJid(from, 'chat state sender')) return;
          emit({ name: 'chat.stateChanged', payload: { accountId, peer: normalizeBareJid(from), state: chatState } });
        },
        smStateChanged: (sm) => {
          if (sm === null) storage.clearSmState(accountId);
          else
            storage.saveSmState(accountId, {
              smId: sm.id,
              jid: sm.jid,
              inboundH: sm.inboundH,
              outboundH: sm.outboundH,
              sent: sm.outboundH,
              location: sm.location,
              max: sm.max,
              savedAt: sm.savedAt,
            });
        },
        storedSmState: () => {
          const sm = storage.loadSmState(accountId);
          return sm && { ...sm, id: sm.smId };
        },
        ackedThrough: (h) => {
          for (const message of storage.ackThroughSmSeq(accountId, h).acked)
            emit({ name: 'message.updated', payload: { message } });
        },
        fastToken: () =>
          this.#deps.fastTokens ? this.#deps.fastTokens.load(accountId) : storage.loadFastToken(accountId, Date.now()),
        fastTokenChanged: (token) => {
          if (this.#deps.fastTokens) this.#deps.fastTokens.save(accountId, token);
          else if (token === null) storage.clearFastToken(accountId);
          else storage.saveFastToken(accountId, { ...token, savedAt: Date.now() }, Date.now());
        },
        saveRecord: (record) => this.#saveRecord(record),
        decisionNeeded: (context) => this.#deps.decisionNeeded(accountId, row.jid, context),
        log: (level, message) => log(level, message),
        ownPresence: () => storage.ownPresence(accountId),
        ...contactEvents(
          {
            storage,
            emit,
            now: Date.now,
            log: (level, message) => log(level, `${row.jid}: ${message}`),
            // A blocked stranger's conversation shows `blocked` (core/conversations.ts computes it).
            blockedChanged: (id, jids) => this.#deps.conversations?.rosterChanged(id, jids),
          },
          accountId,
        ),
        blockingSupported: (supported) => {
          if (state.canBlock === supported) return;
          state.canBlock = supported;
          const current = storage.getAccount(accountId);
          if (current) emit({ name: 'account.changed', payload: { account: this.view(current) } });
        },
      },
    );
    return Object.assign(state, { session });
  }

  /** AccountView.statusText (statusText.ts) from the session's state; remembered as what the UI saw. */
  #statusText(enabled: boolean, state: Live | undefined): string {
    const record = state?.status === 'online' ? state.session.record : null;
    const text = statusText({
      enabled,
      status: state?.status ?? 'offline',
      error: state?.error ?? null,
      attempt: state?.attempt ?? null,
      online: record
        ? { transport: record.transport, sharedWith: this.#sharingQuic(record.quicConnectionId, state) }
        : null,
      retryInMs: state?.retryInMs ?? null,
    });
    if (state) state.statusText = text;
    return text;
  }

  /** How many other online accounts ride on the QUIC connection `connectionId`. */
  #sharingQuic(connectionId: string | null, self: Live | undefined): number {
    if (connectionId === null) return 0;
    let count = 0;
    for (const other of this.#live.values()) {
      if (other === self || other.status !== 'online') continue;
      if (other.session.record?.quicConnectionId === connectionId) count++;
    }
    return count;
  }

  /** Sends `account.changed` when the account's words differ from what the UI last got. */
  #tellIfWordsChanged(accountId: string): void {
    const state = this.#live.get(accountId);
    const row = this.#deps.storage.getAccount(accountId);
    if (!state || !row) return;
    const before = state.statusText;
    const now = this.#statusText(row.enabled, state);
    if (now === before) return;
    this.#deps.emit({ name: 'account.changed', payload: { account: this.view(row) } });
  }

  #saveRecord(record: SecurityRecord): void {
    this.#deps.storage.saveConnection(record);
    this.#deps.emit({ name: 'connection.recorded', payload: { record: structuredClone(record) } });
  }

  /** A server may send anything: a JID storage cannot take is dropped with a log line, never a crash. */
  #acceptableJid(jid: string, what: string): boolean {
    try {
      normalizeBareJid(jid);
      return true;
    } catch (error) {
      this.#deps.log(
        'warn',
        `ignored a ${what} with an invalid JID ${JSON.stringify(jid.slice(0, 100))}: ${(error as Error).message}`,
      );
      return false;
    }
  }
}
