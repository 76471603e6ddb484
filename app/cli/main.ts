/**
 * The headless `quiver` command. Each subcommand prints machine-readable JSON lines with --json and
 * a readable summary otherwise; failures exit non-zero with one line on stderr.
 */
import { runConnect } from './connect.ts';
import { runProbe } from './probe.ts';
import { UsageError } from './args.ts';
import { oneLine } from './oneLine.ts';
import type { CliIo } from './cliIo.ts';

const USAGE = `usage: quiver <command> [options]

commands:
  connect <jid> [--password-env NAME] [--password-file FILE] [--resolver HOST:PORT] [--ca FILE]...
          [--transport starttls|tls|quic] [--send <jid> <text>] [--wait-message SECONDS] [--json]
          [--data-dir DIR] [--resolver-validates]
      Logs in, prints the connection's security record, sends and/or waits for one message,
      then closes the stream cleanly. The password comes from the environment variable NAME
      (default QUIVER_PASSWORD) or from a file readable only by you (mode 0600).
  probe <domain> [--resolver HOST:PORT] [--ca FILE]... [--json] [--resolver-validates]
      Discovers every way to reach the domain (SRV, host-meta), connects to each just far enough
      to verify the server and read its stream features (no login), and prints them in the order
      Quiver would try them, with the proof that held. Exit 0 when at least one was verified.

  --resolver-validates: the resolver validates DNSSEC, so its AD bit counts (always so for a
  resolver on loopback). Needed for DANE and DNSSEC delegation through a remote resolver.
`;

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'connect':
        return await runConnect(rest, io);
      case 'probe':
        return await runProbe(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`quiver: ${error.message}`);
      io.stderr(USAGE);
      return 2;
    }
    io.stderr(`quiver: ${oneLine((error as Error).message ?? String(error))}`);
    return 1;
  }
}

// Run when executed directly (`node app/cli/main.ts ...`); bin/quiver.js imports `main` instead.
if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
