/**
 * axe-core in a UI test's page: `runAxe` puts node_modules/axe-core/axe.min.js into the page and
 * runs it over the whole document against WCAG 2.0/2.1 A and AA and axe's best practices.
 *
 * The script goes in through Playwright's evaluate (DevTools protocol), not `addScriptTag`: the
 * host's CSP is "script-src 'self'", so an inline <script> would be refused and logged as a CSP
 * violation, which the harness counts as a failure.
 *
 * Obligation of the caller: wait until the view is fully shown (axe checks what is in the DOM now).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { repoRoot } from './buildRenderer.ts';

const AXE_PATH = `${repoRoot}/node_modules/axe-core/axe.min.js`;
let axeSource: string | undefined;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/** One rule that failed, with what a person reading the test output needs to find and fix it. */
export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  /** The CSS selectors of the failing nodes, and axe's summary of what fails in each. */
  nodes: { target: string; summary: string }[];
}

/** What the page's `window.axe` offers that this file uses. */
interface AxeLike {
  run(
    context: Document,
    options: unknown,
  ): Promise<{
    violations: {
      id: string;
      impact?: AxeViolation['impact'];
      help: string;
      helpUrl: string;
      nodes: { target: string[]; failureSummary?: string }[];
    }[];
  }>;
}

/** Runs axe over the page as it is now and returns every violation (of any impact). */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) {
    axeSource ??= await readFile(AXE_PATH, 'utf8');
    await page.evaluate(axeSource);
  }
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: AxeLike }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
    }));
  }, TAGS);
}

/** The violations a test fails on: serious or critical. */
export function seriousOnly(violations: AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** One line per failing node: rule id, impact, target, and axe's help text. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .flatMap((v) =>
      v.nodes.map((n) => `${v.id} [${v.impact}] at ${n.target}: ${v.help} — ${n.summary.replace(/\s+/g, ' ')}`),
    )
    .join('\n');
}
