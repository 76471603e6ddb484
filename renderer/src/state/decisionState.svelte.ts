/**
 * Certificates waiting for the person's decision (`certificate.pending`, kept live by
 * `certificate.decisionNeeded` / `certificate.decisionResolved`). The window shows one at a time,
 * oldest first; the rest wait in the queue.
 *
 * Issue 3, "Pins": "a server nothing above can prove (self-signed, private CA) is never accepted
 * silently. The user sees the certificate ... and chooses: refuse, accept once, or pin the key for
 * this account and domain." A decision leaves the queue only when the host says it is resolved
 * (the reply to `certificate.decide`, or the event from another window); "Decide later" only hides
 * it until the person asks for it again from the account row.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { CertificateDecisionView, DecisionChoice } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';

const byArrival = (a: CertificateDecisionView, b: CertificateDecisionView) => a.at - b.at;

export class DecisionState {
  /** Every pending decision, oldest first. */
  pending = $state<CertificateDecisionView[]>([]);
  /** Ids the person put off with "Decide later": not shown until asked for from the account row. */
  deferred = $state<Record<string, true>>({});
  /** The id of the decision whose `certificate.decide` is in flight. */
  busy = $state<string | null>(null);
  /** Why the last `certificate.decide` failed, shown in the dialog. */
  error = $state<string | null>(null);
  #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  /** The decision the dialog shows, or null when none is waiting (or all are put off). */
  get current(): CertificateDecisionView | null {
    return this.pending.find((d) => !this.deferred[d.id]) ?? null;
  }

  /** How many other decisions wait behind the one shown. */
  get waiting(): number {
    return this.pending.length - (this.current ? 1 : 0);
  }

  /** The oldest pending decision for an account (the account row shows "Needs your decision"). */
  forAccount(accountId: string): CertificateDecisionView | null {
    return this.pending.find((d) => d.accountId === accountId) ?? null;
  }

  /** Fetches the pending decisions again (at start and after the link to the host came back). */
  async load(): Promise<void> {
    const pending = await this.#api.call('certificate.pending', {});
    this.pending = [...pending].sort(byArrival);
    const ids = new Set(pending.map((d) => d.id));
    for (const id of Object.keys(this.deferred)) if (!ids.has(id)) delete this.deferred[id];
  }

  /** For `certificate.decisionNeeded`: a decision seen again (e.g. after a reload) is replaced in place. */
  add(decision: CertificateDecisionView): void {
    const at = this.pending.findIndex((d) => d.id === decision.id);
    if (at >= 0) this.pending[at] = decision;
    else this.pending = [...this.pending, decision].sort(byArrival);
  }

  /** For `certificate.decisionResolved` and a successful `certificate.decide`. */
  resolve(decisionId: string): void {
    this.pending = this.pending.filter((d) => d.id !== decisionId);
    delete this.deferred[decisionId];
    if (this.busy === decisionId) this.busy = null;
  }

  /** The account is gone: its decisions with it (the host resolves them too). */
  dropAccount(accountId: string): void {
    for (const d of this.pending.filter((x) => x.accountId === accountId)) this.resolve(d.id);
  }

  /** Hides the decision until `show` is called; the host keeps waiting for it. */
  defer(decisionId: string): void {
    this.deferred[decisionId] = true;
    this.error = null;
  }

  /** Brings a decision to the front of the queue and shows it. */
  show(decisionId: string): void {
    const found = this.pending.find((d) => d.id === decisionId);
    if (!found) return;
    delete this.deferred[decisionId];
    this.pending = [found, ...this.pending.filter((d) => d.id !== decisionId)];
    this.error = null;
  }

  /**
   * Sends the person's choice. Resolves true when the host took it; on failure `error` says why
   * and the pending list is fetched again, so a decision the host no longer knows disappears.
   */
  async decide(decisionId: string, choice: DecisionChoice): Promise<boolean> {
    if (this.busy) return false;
    this.busy = decisionId;
    this.error = null;
    try {
      await this.#api.call('certificate.decide', { decisionId, choice });
      this.resolve(decisionId);
      return true;
    } catch (error) {
      this.error = errorText(error);
      try {
        await this.load();
      } catch (reloadError) {
        // The first failure is already shown; this one only says the list may be stale.
        console.warn('certificate.pending failed after certificate.decide failed', reloadError);
      }
      return false;
    } finally {
      if (this.busy === decisionId) this.busy = null;
    }
  }
}
