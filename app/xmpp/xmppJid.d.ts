// Types for the parts of @xmpp/jid (which ships none) that jid.ts uses.
declare module '@xmpp/jid' {
  export class JID {
    constructor(local: string | null | undefined, domain: string, resource?: string | null);
    getLocal(unescape?: boolean): string;
    getDomain(): string;
    getResource(): string;
    bare(): JID;
    equals(other: JID): boolean;
    toString(unescape?: boolean): string;
  }
  export function parse(s: string): JID;
}
