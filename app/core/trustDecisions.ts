/**
 * The certificate decisions a person makes when a server could not prove its domain (DNA draft: "an
 * explicit user decision that is pinned"): which decisions are pending, what "accept once" lends the
 * next connection attempt, how a pin replaces the older ones, and what refusing does.
 *
 * It knows nothing of sessions or SQLite: it reaches the rest of the core through `TrustDecisionDeps`,
 * so its rules are tested without a server (test/unit/core/trustDecisions.test.ts).
 */
import type {
  CertificateDecisionView,
  CertificateSummary,
  DecisionChoice,
  EventEnvelope,
  PinView,
  UserError,
} from '../contract/index.ts';
import type { DecisionContext } from '../connect/connectError.ts';
import { CoreError } from '../coreError.ts';
import { classifyCertificateProblem } from '../security/certificateProblem.ts';

/** The pins of the profile (`Storage` is one). */
export interface PinStore {
  /** The account's pins, for one domain when given. */
  listPins(accountId: string, domain?: string): PinView[];
  addPin(accountId: string, domain: string, spkiSha256: string, certificate: CertificateSummary | null): unknown;
  removePin(accountId: string, domain: string, spkiSha256: string): unknown;
}

export interface TrustDecisionDeps {
  pins: PinStore;
  /** Receives `certificate.decisionNeeded`, `certificate.decisionResolved` and `pin.changed`. */
  emit(event: EventEnvelope): void;
  /** Milliseconds since the epoch, for `CertificateDecisionView.at`. */
  now(): number;
  /** A fresh, unguessable decision id. */
  newId(): string;
  /**
   * The person trusted the key (once or pinned): connect the account again. Called after the pin is
   * stored or the accept-once key is set aside, so the new attempt sees it.
   */
  reconnect(accountId: string): Promise<void>;
  /** The person refused the key: the account goes offline and disabled, showing `error`. */
  disable(accountId: string, error: UserError): Promise<void>;
}

export class TrustDecisions {
  readonly #deps: TrustDecisionDeps;
  /** Certificates waiting for the person, at most one per account (the newest). */
  readonly #pending = new Map<string, CertificateDecisionView>();
  /**
   * SPKI SHA-256 the person accepted "once", per account: handed to the next connection attempt
   * and then forgotten, so any later connection (a reconnect too) asks again. Never stored.
   */
  readonly #acceptedOnce = new Map<string, Set<string>>();

  constructor(deps: TrustDecisionDeps) {
    this.#deps = deps;
  }

  /**
   * A connection attempt stopped at a certificate it could not prove: asks the person. A decision
   * still pending for the same account is replaced, and resolved for the UI, first.
   */
  ask(accountId: string, jid: string, context: DecisionContext): CertificateDecisionView {
    const previous = this.#pending.get(accountId);
    if (previous) this.#deps.emit({ name: 'certificate.decisionResolved', payload: { decisionId: previous.id } });
    const leaf = context.certificates[0];
    const pins = this.#deps.pins.listPins(accountId, context.domain);
    const decision: CertificateDecisionView = {
      id: this.#deps.newId(),
      accountId,
      jid,
      domain: context.domain,
      transport: context.candidate.transport,
      host: context.candidate.host,
      port: context.candidate.port,
      kind: context.verdict.decision ?? 'unproven',
      problem: classifyCertificateProblem({
        verdict: context.verdict,
        certificates: context.certificates,
        now: this.#deps.now(),
      }),
      certificates: context.certificates,
      presentedSpkiSha256: leaf?.spkiSha256 ?? '',
      pinnedSpkiSha256: pins.map((p) => p.spkiSha256),
      tried: context.verdict.tried,
      reason: context.verdict.error ?? {
        code: 'untrusted',
        message: `Quiver could not prove that this server is ${context.domain}.`,
      },
      at: this.#deps.now(),
    };
    this.#pending.set(accountId, decision);
    this.#deps.emit({ name: 'certificate.decisionNeeded', payload: { decision } });
    return decision;
  }

  /** The decisions waiting for the person, one per account at most. */
  pending(): CertificateDecisionView[] {
    return [...this.#pending.values()];
  }

  /**
   * The keys accepted once for the account, for the connection attempt about to start: the set is
   * forgotten as it is handed over, so the attempt after this one asks again.
   */
  takeAcceptedOnce(accountId: string): ReadonlySet<string> {
    const keys = this.#acceptedOnce.get(accountId) ?? new Set<string>();
    this.#acceptedOnce.delete(accountId);
    return keys;
  }

  /**
   * Carries out the person's choice; resolves once the account is reconnecting (accept-once, pin)
   * or disabled (refuse). Throws `CoreError` `decision-not-found` when the decision is no longer
   * pending (answered already, replaced by a newer one, or its account removed).
   */
  async decide(decisionId: string, choice: DecisionChoice): Promise<void> {
    const decision = this.pending().find((d) => d.id === decisionId);
    if (!decision)
      throw new CoreError(
        'decision-not-found',
        'That certificate decision is no longer pending: the account was removed or asked again.',
      );
    this.#pending.delete(decision.accountId);
    this.#deps.emit({ name: 'certificate.decisionResolved', payload: { decisionId } });
    if (choice === 'refuse') {
      await this.#deps.disable(decision.accountId, {
        code: 'refused-by-user',
        message: `You refused the certificate ${decision.domain} presented; the account stays offline. Enable it again to retry.`,
      });
      return;
    }
    if (choice === 'pin') this.#pin(decision);
    else this.#acceptOnce(decision);
    await this.#deps.reconnect(decision.accountId);
  }

  /** The account is being removed: nothing of it stays, and its pending decision is resolved. */
  forget(accountId: string): void {
    this.#acceptedOnce.delete(accountId);
    const decision = this.#pending.get(accountId);
    if (decision) {
      this.#pending.delete(accountId);
      this.#deps.emit({ name: 'certificate.decisionResolved', payload: { decisionId: decision.id } });
    }
  }

  /** "Replace the pin" for a changed key: the new key is the only one trusted for this domain. */
  #pin(decision: CertificateDecisionView): void {
    const { pins } = this.#deps;
    for (const pin of pins.listPins(decision.accountId, decision.domain)) {
      pins.removePin(decision.accountId, pin.domain, pin.spkiSha256);
    }
    pins.addPin(decision.accountId, decision.domain, decision.presentedSpkiSha256, decision.certificates[0] ?? null);
    this.#deps.emit({
      name: 'pin.changed',
      payload: { accountId: decision.accountId, pins: pins.listPins(decision.accountId) },
    });
  }

  #acceptOnce(decision: CertificateDecisionView): void {
    const accepted = this.#acceptedOnce.get(decision.accountId) ?? new Set<string>();
    accepted.add(decision.presentedSpkiSha256);
    this.#acceptedOnce.set(decision.accountId, accepted);
  }
}
