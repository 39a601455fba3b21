import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; tests never download a browser of their own. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as root on a closed network: the flags keep it from reaching out (background
 * networking, component updates, sync, QUIC) and a fresh profile keeps runs independent. Playwright
 * takes the profile folder itself (it passes it on as --user-data-dir) and refuses the flag in args.
 */
export async function launchChromium(
  viewport = { width: 1280, height: 860 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'report-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything that shows the page broke: script errors, console errors, requests leaving the file. */
export interface PageProblems {
  errors: string[];
  requests: string[];
}

export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], requests: [] };
  page.on('pageerror', (err) => problems.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.errors.push(`console: ${msg.text()}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith('file://')) problems.requests.push(req.url());
  });
  return problems;
}
