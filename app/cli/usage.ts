/**
 * The usage texts of the `quiver` command: the overview (`quiver --help`) and one per subcommand
 * (`quiver connect --help`), printed on stdout when asked for. A usage error prints none of them:
 * one line saying what was wrong and `usageHint`, which points here.
 */

const CONNECT = `usage: quiver connect <jid> [<jid>...] [--password-env NAME]... [--password-file FILE]...
         [--resolver HOST:PORT] [--ca FILE]... [--transport starttls|tls|quic] [--send <jid> <text>]
         [--wait-message SECONDS] [--json] [--data-dir DIR] [--resolver-validates]
       quiver connect <jid> [<jid>...] --db PATH [--send-file FILE --to JID] [--expect COUNT]
         [--wait-message SECONDS] [the login options above]

Logs the accounts in through one connection manager (accounts reaching the same QUIC server
share one QUIC session, one stream each), prints each connection's security record, sends
and/or waits for one message, then closes the streams cleanly. The password comes from the
environment variable NAME (default QUIVER_PASSWORD) or from a file readable only by you (mode
0600); give one source for every JID, or one per JID in order (files first).

  --transport           quic forces XMPP over QUIC (XEP-0467); default: QUIC first with a short
                        head start, then direct TLS and STARTTLS in the merged XEP-0368 order.
  --send <jid> <text>   sent by the first account.
  --wait-message S      waits up to S seconds until one message arrives on any account.
  --resolver-validates  the resolver validates DNSSEC, so its AD bit counts (always so for a
                        resolver on loopback). Needed for DANE and DNSSEC delegation through a
                        remote resolver.
  --json                one JSON line each: each account's security record (over QUIC with
                        quicConnectionId, the same for accounts sharing a session, and
                        quicStreamId), each message received ({"type":"message",...}, with "to"
                        when several accounts), and on failure {"type":"error","code":...}.

Exit 0 when the streams were closed as asked, 1 on failure (one line on stderr), 2 for usage errors.

Long runs (--db, --send-file, --expect) stay online the way the app does: reconnects, the
outbox, acknowledgements, archive catch-up and deduplication, until everything asked for is done.
  --db PATH             the SQLite file holding the run's state (accounts, outbox, stream
                        management, archive position, security records, messages), made if
                        missing (mode 0600); a run killed and started again with the same --db goes
                        on where it stopped. Required for --send-file and --expect (the data dir's
                        profile is not used then). Passwords and sign-in tokens are never written
                        to it.
  --send-file FILE --to JID  each line of FILE (UTF-8; blank lines skipped) becomes one message
                        from the first account to JID, in order. Queued once per --db: a rerun
                        queues nothing new. Done when the server has stored every one (XEP-0198
                        acks: the server must offer stream management).
  --expect COUNT        done when COUNT distinct incoming messages are stored for the accounts;
                        each is printed once. Messages stored by an earlier run with the same --db
                        count toward COUNT and are not printed again. What counts is what arrived
                        since the first run with this --db: the archive is read from then on (start
                        the receiver before the sender, or reuse its --db).
  --wait-message S      bounds the whole long run (default 60 seconds).
  With --json also {"type":"job","to":...,"messages":N,"enqueued":N} and a final
  {"type":"summary","sent":N,"acked":N,"received":N,"reconnects":N}. With --db alone the run is done
  once every account is online. Exit 0 when done, 1 when a message was refused, an account
  cannot log in, or time ran out; 130 / 143 after SIGINT / SIGTERM (streams and database closed).
`;

const PROBE = `usage: quiver probe <domain> [--resolver HOST:PORT] [--ca FILE]... [--json] [--resolver-validates]

Discovers every way to reach the domain (SRV, host-meta), connects to each just far enough to
verify the server and read its stream features (no login), and prints them in the order Quiver
would try them, with the proof that held.

  --resolver-validates  the resolver validates DNSSEC, so its AD bit counts (always so for a
                        resolver on loopback).
  --json                the report as one JSON object; a failure that leaves no report writes
                        {"type":"error","code":...,"message":...} instead.

Exit 0 when at least one way was verified, 1 otherwise (one line on stderr), 2 for usage errors.
`;

const GATEWAY = `usage: quiver gateway --listen ADDR:PORT --cert FILE --key FILE --forward HOST:PORT
         [--max-connections N] [--max-streams N] [--max-buffer BYTES] [--idle-timeout SECONDS]
         [--retry] [--retry-above N] [--early-data] [--max-backend N] [--max-backend-per-address N]
         [--first-byte-timeout SECONDS] [--json] [--verbose]

Puts an XMPP-over-QUIC front (XEP-0467, ALPN xmpp-client) on an existing XMPP server: each
bidirectional stream a client opens becomes one TCP connection to the server's plaintext client
port (--forward, normally on loopback; the server must treat it as secure). When the stream or
the QUIC connection ends, resets or times out, that TCP connection is closed, so no session stays
logged in; when the server closes it, the stream ends. Runs until SIGINT or SIGTERM, then closes
every connection cleanly.

  --cert FILE           PEM certificates, leaf first, for the XMPP domains clients name (SNI)
  --key FILE            the certificate's PEM private key, readable by you only (mode 0600)
                        --cert/--key may repeat, in pairs: a client gets the first certificate
                        whose DNS names cover its SNI, else the first one
  --max-connections N   QUIC connections at a time; more are closed at once (default 1000)
  --max-streams N       streams (XMPP sessions) per connection at a time (default 16)
  --max-buffer BYTES    bytes from a client the server may leave unread per stream before the
                        stream is ended (default 1048576)
  --idle-timeout SECONDS  a connection silent this long ends (default 30)
  --retry               ask every new client to prove its address first (a QUIC Retry, one
                        round trip); without it only under load (--retry-above half-open
                        connections, default 64)
  --early-data          issue session tickets and accept 0-RTT (each ticket once, checked by a
                        strike register): a returning client's stream header reaches the
                        server a round trip sooner. Safe for clients that send only the stream
                        header early (Quiver does): a replay opens one more unauthenticated stream
  --max-backend N       TCP connections to the server at a time, all clients (default 4096)
  --max-backend-per-address N  the same for one client IP address (default 64); a stream
                        beyond either limit is reset
  --first-byte-timeout SECONDS  a stream that sends nothing this long is reset; its TCP
                        connection opens only on its first byte (default 10)
  --json                one JSON line per event: listening, close, refused, stopped (and open)
  --verbose             also one line when a connection is up

One line when listening and one per connection when it ends (client address, SNI, ALPN, open
time, duration, streams, bytes each way, reason); connections refused at --max-connections are
counted in one line per 10 seconds at most. Exit 0 after a clean stop, 1 when it cannot
start, 2 for usage errors.
`;

const OVERVIEW = `usage: quiver <command> [options]

commands:
  connect <jid>     log in, print the connection's security record, send and/or wait for a message
  probe <domain>    show every way Quiver would reach a domain and whether each proves the server
  gateway           put an XMPP-over-QUIC front on an existing XMPP server

  quiver <command> --help   the options of a command
  quiver --version          the version of Quiver
`;

/** The subcommands that have a usage text of their own. */
export type Command = 'connect' | 'probe' | 'gateway';

export function isCommand(name: string | undefined): name is Command {
  return name === 'connect' || name === 'probe' || name === 'gateway';
}

/** The usage of `command`, or the overview without one. */
export function usageOf(command?: Command): string {
  // The caller's line adds the final newline.
  return (
    command === 'connect' ? CONNECT : command === 'probe' ? PROBE : command === 'gateway' ? GATEWAY : OVERVIEW
  ).trimEnd();
}

/** The line after a usage error: where the whole usage is. */
export function usageHint(command?: Command): string {
  return `Run 'quiver ${command ? `${command} ` : ''}--help' for usage.`;
}
