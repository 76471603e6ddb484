/**
 * The usage texts of the `quiver` command: the overview (`quiver --help`) and one per subcommand
 * (`quiver connect --help`), printed on stdout when asked for. A usage error prints none of them:
 * one line saying what was wrong and `usageHint`, which points here.
 */

const CONNECT = `usage: quiver connect <jid> [--password-env NAME] [--password-file FILE] [--resolver HOST:PORT]
         [--ca FILE]... [--transport starttls|tls|quic] [--send <jid> <text>] [--wait-message SECONDS]
         [--json] [--data-dir DIR] [--resolver-validates]

Logs in, prints the connection's security record, sends and/or waits for one message, then
closes the stream cleanly. The password comes from the environment variable NAME (default
QUIVER_PASSWORD) or from a file readable only by you (mode 0600).

  --resolver-validates  the resolver validates DNSSEC, so its AD bit counts (always so for a
                        resolver on loopback). Needed for DANE and DNSSEC delegation through a
                        remote resolver.
  --json                one JSON line each: the security record, each message received
                        ({"type":"message",...}), and on failure {"type":"error","code":...,"message":...}.

Exit 0 when the stream was closed as asked, 1 on failure (one line on stderr), 2 for usage errors.
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

const OVERVIEW = `usage: quiver <command> [options]

commands:
  connect <jid>     log in, print the connection's security record, send and/or wait for a message
  probe <domain>    show every way Quiver would reach a domain and whether each proves the server

  quiver <command> --help   the options of a command
  quiver --version          the version of Quiver
`;

/** The subcommands that have a usage text of their own. */
export type Command = 'connect' | 'probe';

export function isCommand(name: string | undefined): name is Command {
  return name === 'connect' || name === 'probe';
}

/** The usage of `command`, or the overview without one. */
export function usageOf(command?: Command): string {
  // The caller's line adds the final newline.
  return (command === 'connect' ? CONNECT : command === 'probe' ? PROBE : OVERVIEW).trimEnd();
}

/** The line after a usage error: where the whole usage is. */
export function usageHint(command?: Command): string {
  return `Run 'quiver ${command ? `${command} ` : ''}--help' for usage.`;
}
