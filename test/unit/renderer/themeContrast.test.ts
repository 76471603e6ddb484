/**
 * The colour variables of renderer/src/style.css meet WCAG 2.2 AA in both themes: 4.5:1 for text
 * (SC 1.4.3), 3:1 for the account colour dots and status marks (SC 1.4.11, non-text). Reads the CSS
 * itself, so a changed value is checked where it is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ACCOUNT_COLORS } from '../../../app/contract/viewModels.ts';

const css = await readFile(new URL('../../../renderer/src/style.css', import.meta.url), 'utf8');

/** The `--name: #rrggbb` declarations of the first block that follows `selector {`. */
function variables(selector: string): Map<string, string> {
  const at = css.indexOf(`${selector} {`);
  assert.ok(at >= 0, `style.css has no ${selector} block`);
  const body = css.slice(at, css.indexOf('}', at));
  return new Map([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

const light = variables(':root');
const dark = variables(":root[data-theme='dark']");
const darkBySystem = variables(':root:not([data-theme])');

/** WCAG 2.2 relative luminance of #rrggbb. */
function luminance(hex: string): number {
  assert.match(hex, /^#[0-9a-f]{6}$/i, `${hex} is not #rrggbb`);
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Text colour, background, minimum ratio. */
const PAIRS: [string, string, number][] = [
  ['--text', '--bg', 4.5],
  ['--text', '--panel', 4.5],
  ['--text', '--panel-2', 4.5],
  ['--text', '--bubble-in', 4.5],
  ['--muted', '--bg', 4.5],
  ['--muted', '--panel', 4.5],
  ['--muted', '--panel-2', 4.5],
  ['--accent-text', '--accent', 4.5],
  ['--bubble-out-text', '--bubble-out', 4.5],
  ['--link', '--bg', 4.5],
  ['--link', '--panel', 4.5],
  ['--bad', '--panel', 4.5],
  ['--bad', '--bg', 4.5],
  ['--bad', '--bad-soft', 4.5],
  ['--bad-text', '--bad', 4.5],
  ['--warn', '--panel', 4.5],
  ['--warn', '--warn-soft', 4.5],
  ['--ok', '--panel', 4.5],
  ['--ok', '--ok-soft', 4.5],
  ['--idle', '--panel', 3],
  ['--focus-ring', '--bg', 3],
  ['--focus-ring', '--panel', 3],
];

for (const [name, vars] of [
  ['light', light],
  ['dark', dark],
] as const) {
  test(`${name} theme: the main text pairs reach WCAG AA`, () => {
    const failures = PAIRS.flatMap(([fg, bg, min]) => {
      const ratio = contrast(vars.get(fg)!, vars.get(bg)!);
      return ratio >= min ? [] : [`${fg} on ${bg}: ${ratio.toFixed(2)} < ${min}`];
    });
    assert.deepEqual(failures, []);
  });
}

test('light theme: every account colour stands out from the backgrounds (3:1)', () => {
  const failures = ACCOUNT_COLORS.flatMap((color) =>
    ['--bg', '--panel'].flatMap((bg) => {
      const ratio = contrast(color, light.get(bg)!);
      return ratio >= 3 ? [] : [`${color} on ${bg}: ${ratio.toFixed(2)}`];
    }),
  );
  assert.deepEqual(failures, []);
});

test('dark theme: every account colour stands out from the background (3:1)', () => {
  const failures = ACCOUNT_COLORS.flatMap((color) => {
    return ['--bg', '--panel'].flatMap((bg) => {
      const ratio = contrast(color, dark.get(bg)!);
      return ratio >= 3 ? [] : [`${color} on ${bg} (dark): ${ratio.toFixed(2)}`];
    });
  });
  assert.deepEqual(failures, []);
});

test('the dark theme chosen by hand and the one taken from the system are the same', () => {
  assert.deepEqual([...darkBySystem], [...dark]);
  assert.equal(dark.get('color-scheme'), undefined, 'color-scheme is not a custom property');
  assert.deepEqual(
    [...light.keys()].filter((k) => k !== '--radius' && k !== '--focus').sort(),
    [...dark.keys()].sort(),
  );
});
