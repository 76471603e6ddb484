/**
 * The headless `quiver` command. Each subcommand prints machine-readable JSON lines with --json and
 * a readable summary otherwise; failures exit non-zero with one line on stderr (and with --json
 * one `{"type":"error",...}` line on stdout, `failure.ts`). Exit codes: 0 done (and --help,
 * --version), 1 failed, 2 usage error: the one line that was wrong and a pointer to --help.
 */
import { runConnect } from './connect.ts';
import { runProbe } from './probe.ts';
import { runGateway } from './gateway.ts';
import { UsageError } from './args.ts';
import { failureOf, reportFailure } from './failure.ts';
import { isCommand, usageHint, usageOf, type Command } from './usage.ts';
import { quiverVersion } from './version.ts';
import { terminalIo, type CliIo } from './cliIo.ts';

const defaultIo: CliIo = terminalIo(
  { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
  process.env,
);

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  const subcommand: Command | undefined = isCommand(command) ? command : undefined;
  // Before the arguments are read (a usage error may be among them), as a script asked for it.
  const json = subcommand !== undefined && rest.includes('--json');
  try {
    switch (command) {
      case 'connect':
        return await runConnect(rest, io);
      case 'probe':
        return await runProbe(rest, io);
      case 'gateway':
        return await runGateway(rest, io);
      case 'help':
      case '--help':
      case '-h': {
        const [topic, ...more] = rest;
        if (more.length > 0 || (topic !== undefined && !isCommand(topic)))
          throw new UsageError(`no help on "${rest.join(' ')}": the commands are connect, probe and gateway`);
        io.stdout(usageOf(topic));
        return 0;
      }
      case 'version':
      case '--version':
      case '-V':
        io.stdout(`quiver ${quiverVersion()}`);
        return 0;
      case undefined:
        throw new UsageError('no command given: connect or probe');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    reportFailure(io, failureOf(error), json);
    if (error instanceof UsageError) {
      io.stderr(usageHint(subcommand));
      return 2;
    }
    return 1;
  }
}

// Run when executed directly (`node app/cli/main.ts ...`); bin/quiver.js imports `main` instead.
if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
