/**
 * `main`, the `quiver` command as a person and a script meet it: help and version exit 0 on
 * stdout; a usage error is one line saying what was wrong plus where the usage is, exit 2; with
 * --json every failure also leaves one `{"type":"error","code","message"}` line on stdout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { main } from '../../../app/cli/main.ts';
import type { CliIo } from '../../../app/cli/cliIo.ts';

async function run(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    env: { QUIVER_PASSWORD: 'secret' },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

test("connect --help and probe --help print that command's usage on stdout and exit 0", async () => {
  for (const argv of [
    ['connect', '--help'],
    ['connect', '-h'],
    ['connect', 'alice@example.org', '--json', '--help'],
    ['help', 'connect'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.deepEqual(r.stderr, [], argv.join(' '));
    assert.match(r.stdout.join('\n'), /^usage: quiver connect <jid>/, argv.join(' '));
    assert.match(r.stdout.join('\n'), /--password-env NAME/);
    assert.doesNotMatch(r.stdout.join('\n'), /quiver probe/);
  }
  for (const argv of [
    ['probe', '--help'],
    ['probe', '-h'],
    ['help', 'probe'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.deepEqual(r.stderr, []);
    assert.match(r.stdout.join('\n'), /^usage: quiver probe <domain>/, argv.join(' '));
    assert.doesNotMatch(r.stdout.join('\n'), /quiver connect/);
  }
});

test('quiver --help, -h and help print the overall usage and exit 0', async () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await run(...argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.deepEqual(r.stderr, []);
    const text = r.stdout.join('\n');
    assert.match(text, /^usage: quiver <command> \[options\]/);
    assert.match(text, /connect <jid>/);
    assert.match(text, /probe <domain>/);
  }
});

test('quiver --version prints "quiver <version>" from package.json and exits 0', async () => {
  for (const argv of [['--version'], ['-V'], ['version']]) {
    const r = await run(...argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.deepEqual(r.stdout, [`quiver ${VERSION}`]);
    assert.deepEqual(r.stderr, []);
  }
});

test('a usage error is the one line that matters and a pointer to --help, exit 2', async () => {
  assert.deepEqual(await run('connect', 'not-a-jid'), {
    code: 2,
    stdout: [],
    stderr: ['quiver: "not-a-jid" is not a bare JID like alice@example.org', "Run 'quiver connect --help' for usage."],
  });
  assert.deepEqual(await run('probe', 'example.org', '--frobnicate'), {
    code: 2,
    stdout: [],
    stderr: ['quiver: unknown option --frobnicate', "Run 'quiver probe --help' for usage."],
  });
  assert.deepEqual(await run('frob'), {
    code: 2,
    stdout: [],
    stderr: ['quiver: unknown command "frob"', "Run 'quiver --help' for usage."],
  });
  assert.deepEqual(await run(), {
    code: 2,
    stdout: [],
    stderr: ['quiver: no command given: connect or probe', "Run 'quiver --help' for usage."],
  });
});

test('--json: a usage error also writes one error line on stdout', async () => {
  const r = await run('probe', 'not a domain', '--json');
  assert.equal(r.code, 2);
  assert.deepEqual(
    r.stdout.map((l) => JSON.parse(l) as unknown),
    [{ type: 'error', code: 'usage', message: '"not a domain" is not a domain name like example.org' }],
  );
  assert.deepEqual(r.stderr, [
    'quiver: "not a domain" is not a domain name like example.org',
    "Run 'quiver probe --help' for usage.",
  ]);
});

test('--json: a failure that is not a usage error writes one error line on stdout, the reason on stderr, exit 1', async () => {
  // A data directory that cannot be created: the failure comes before any network traffic.
  const r = await run('connect', 'alice@example.org', '--json', '--data-dir', '/dev/null/quiver');
  assert.equal(r.code, 1);
  assert.equal(r.stdout.length, 1, r.stdout.join('\n'));
  const line = JSON.parse(r.stdout[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(line), ['type', 'code', 'message']);
  assert.equal(line.type, 'error');
  assert.equal(typeof line.code, 'string');
  assert.notEqual(line.code, '');
  assert.equal(r.stderr.length, 1);
  assert.equal(r.stderr[0], `quiver: ${String(line.message)}`);
  // Without --json, stdout stays empty.
  const plain = await run('connect', 'alice@example.org', '--data-dir', '/dev/null/quiver');
  assert.equal(plain.code, 1);
  assert.deepEqual(plain.stdout, []);
  assert.deepEqual(plain.stderr, r.stderr);
});
