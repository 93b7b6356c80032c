// Debian's chromium driven by playwright-core (no downloaded browser), for the dashboard's tests
// and benchmark; and axe-core, run inside the page, for its accessibility check.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { root } from '../support/vws-bin.ts';

export const CHROMIUM = '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test's pretest installs it)`);
  // Root in a container: chromium's sandbox needs user namespaces it may not have.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Where the tests keep their screenshots: artifacts/dashboard/ in the checkout (not committed). */
export const ARTIFACTS = join(root, 'artifacts', 'dashboard');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/ui`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.top');
}

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

/**
 * axe-core's violations of impact serious or critical on the page as it is. The script goes in
 * through the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const source = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  await page.evaluate(source);
  // A string, not a function: tsx would name the function's helpers, which the page does not have.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })),
  })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Waits until `expression` is true in the page, polled from here: the page's Content-Security-
 * Policy forbids the eval that page.waitForFunction's own polling uses.
 */
export async function until(page: Page, expression: string, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`waited ${timeoutMs / 1000} s for ${what} (${expression})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
