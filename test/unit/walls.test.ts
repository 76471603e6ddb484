/**
 * The walls of the pure areas hold (STYLE.md, "Environments are compile-time facts"): a file in
 * app/xmpp, app/quic or app/security (outside driver/) that reaches for a socket, a timer or a clock
 * fails the type-check and the lint; the same file in a driver/ folder passes. Each case also has a
 * control that compiles cleanly, so a wall that lets everything through, or one that refuses
 * everything, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ESLint } from 'eslint';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseProject(path: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, path),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  assert.ok(parsed, path);
  return parsed;
}

/** Type-checks one made-up file as if it sat at `path` inside the pure project. */
function typeCheckInPureProject(path: string, source: string): string[] {
  const project = parseProject('app/tsconfig.pure.json');
  const options: ts.CompilerOptions = {
    ...project.options,
    noEmit: true,
    composite: false,
    declaration: false,
    emitDeclarationOnly: false,
    declarationDir: undefined,
    incremental: false,
    tsBuildInfoFile: undefined,
  };
  const probePath = join(root, path);
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, ...rest) =>
    fileName === probePath
      ? ts.createSourceFile(fileName, source, language, true)
      : getSourceFile(fileName, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === probePath || fileExists(fileName);
  const environment = project.fileNames.filter((name) => name.endsWith('pureEnvironment.d.ts'));
  assert.equal(environment.length, 1, 'the pure project lists pureEnvironment.d.ts');
  const program = ts.createProgram({ rootNames: [...environment, probePath], options, host });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
}

const PURE_CONTROL = `
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import type { TlsFacts } from '../transport/tlsFacts.ts';
export type Facts = TlsFacts;
export const epoch = new Date(0);
export const digest = (text: string): Uint8Array => createHash('sha256').update(Buffer.from(new TextEncoder().encode(text))).digest();
export const shown = inspect(new URL('https://example.org/'));
export const key = globalThis.crypto.getRandomValues(new Uint8Array(4));
`;

test('the pure tsconfig project holds exactly the pure areas, and the core project the rest', () => {
  const pure = parseProject('app/tsconfig.pure.json').fileNames.map((name) => relative(root, name));
  const core = parseProject('app/tsconfig.json').fileNames.map((name) => relative(root, name));
  for (const file of ['app/xmpp/streamMachine.ts', 'app/quic/quicConnection.ts', 'app/security/verifier.ts']) {
    assert.ok(pure.includes(file), `${file} is in the pure project`);
  }
  assert.ok(pure.includes('app/transport/tlsFacts.ts'), 'the one TlsFacts is pure');
  assert.deepEqual(
    pure.filter((file) => file.includes('/driver/')),
    [],
    'no driver is in the pure project',
  );
  const drivers = core.filter((file) => /^app\/(quic|security)\/driver\//.test(file));
  assert.ok(drivers.length >= 2, `the drivers compile with Node's types (${drivers.join(', ')})`);
  assert.deepEqual(
    core.filter((file) => pure.includes(file)),
    [],
    'no file is in both projects',
  );
});

test('type-check: pure code that reaches for a socket, a timer or the process does not compile', () => {
  assert.deepEqual(typeCheckInPureProject('app/xmpp/wallControl.ts', PURE_CONTROL), [], 'the control compiles');

  const cases: Array<[string, string, RegExp]> = [
    [
      'app/quic/wallProbe.ts',
      `import { createSocket } from 'node:dgram';\nexport const s = createSocket('udp4');`,
      /TS2307.*node:dgram/,
    ],
    ['app/xmpp/wallProbe.ts', `import { connect } from 'node:net';\nexport const c = connect;`, /TS2307.*node:net/],
    [
      'app/security/wallProbe.ts',
      `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;`,
      /TS2307.*node:fs/,
    ],
    ['app/quic/tls/wallProbe.ts', `export const t = setTimeout(() => undefined, 1);`, /TS(2304|2591).*setTimeout/],
    ['app/xmpp/wallProbe.ts', `export const t = setImmediate(() => undefined);`, /TS(2304|2591).*setImmediate/],
    ['app/security/wallProbe.ts', `export const t = process.hrtime.bigint();`, /TS(2304|2591).*process/],
    ['app/quic/wallProbe.ts', `export const t = performance.now();`, /TS(2304|2591).*performance/],
  ];
  for (const [path, source, expected] of cases) {
    const errors = typeCheckInPureProject(path, source);
    assert.ok(
      errors.some((error) => expected.test(error)),
      `${path}: ${source.split('\n')[0]} -> ${errors.join('; ') || 'compiled'}`,
    );
  }
});

test('lint: pure code may not import I/O modules, drivers or the layers above, nor read timers and clocks', async () => {
  const eslint = new ESLint({ cwd: root });
  const lint = async (path: string, source: string): Promise<string[]> => {
    const [result] = await eslint.lintText(source, { filePath: join(root, path) });
    return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
  };
  const violations = [
    `import { connect } from 'node:net';`,
    `import * as dgram from 'dgram';`,
    `import { exec } from 'node:child_process';`,
    `import { request } from 'node:https';`,
    `import { endpoint } from '../quic/driver/endpoint.ts';`,
    `import type { Candidate } from '../connect/candidate.ts';`,
    `import { TcpTransport } from '../transport/tcpTransport.ts';`,
    `import { hrtime } from 'node:process';`,
    `export const z = Date();`,
    `export const a = Date.now();`,
    `export const b = performance.now();`,
    `export const c = new Date();`,
    `export const d = setTimeout(() => undefined, 1);`,
    `export const e = process.env;`,
  ];
  for (const source of violations) {
    const messages = await lint('app/quic/wallProbe.ts', `${source}\nexport {};\n`);
    assert.ok(
      messages.some((message) => /^no-restricted-(imports|globals|properties|syntax):/.test(message)),
      `pure code: ${source} -> ${messages.join('; ') || 'accepted'}`,
    );
  }
  for (const path of ['app/xmpp/wallProbe.ts', 'app/security/wallProbe.ts', 'app/contract/wallProbe.ts']) {
    const messages = await lint(path, `export const a = Date.now();\n`);
    assert.ok(messages.length > 0, `${path}: Date.now is refused`);
  }
  const driver = `import { createSocket } from 'node:dgram';\nexport const s = createSocket('udp4');\nexport const t = setTimeout(() => s.close(), Date.now() % 10);\n`;
  assert.deepEqual(await lint('app/quic/driver/wallProbe.ts', driver), [], 'a driver may do I/O');
  assert.deepEqual(await lint('app/security/driver/wallProbe.ts', driver), [], 'a driver may do I/O');
  assert.deepEqual(await lint('app/xmpp/wallControl.ts', PURE_CONTROL), [], 'the control passes the lint');
});
