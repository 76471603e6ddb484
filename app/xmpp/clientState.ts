/**
 * XEP-0352 Client State Indication: tells the server whether the user is looking (active) or not
 * (inactive), so it can hold back unimportant traffic while the window is hidden.
 */
import { Element } from 'ltx';
import { NS_CSI } from './namespaces.ts';

export type ClientState = 'active' | 'inactive';

/** The last state told to the server on one stream; a repeated state sends nothing. */
export class ClientStateIndication {
  /**
   * XEP-0352 §4.2: "A stream always begins in 'active' state." and §5: "The server MUST assume all
   * clients to be in the 'active' state until the client indicates otherwise."
   */
  #current: ClientState = 'active';

  get current(): ClientState {
    return this.#current;
  }

  /**
   * The nonza to send to move to `state` (XEP-0352 §4.2: `<active xmlns='urn:xmpp:csi:0'/>` or
   * `<inactive .../>`), or null when the server already has that state. `offered`: the server
   * advertised <csi xmlns='urn:xmpp:csi:0'/> in its stream features (§4.1: "If the server supports
   * CSI, it advertises it in the stream features after the client has authenticated"); a server
   * that did not would not understand the nonza, so without it: always null. `force`: send even
   * when this stream already said so (a resumed stream's server may hold the former stream's state).
   */
  next(state: ClientState, offered: boolean, force = false): Element | null {
    if (state !== 'active' && state !== 'inactive')
      throw new Error(`setClientState(): unknown state "${String(state)}"`);
    if (!offered || (state === this.#current && !force)) return null;
    this.#current = state;
    return new Element(state, { xmlns: NS_CSI });
  }
}
