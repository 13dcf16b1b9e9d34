// Headless Chromium for the browser tests: Debian's chromium driven by playwright-core, or the
// reason the tests skip where either is missing (.ci/run installs both).
import { existsSync } from 'node:fs';

/** The Chromium binary the browser tests drive. */
export const CHROMIUM = process.env.MEDVAE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * playwright-core, typed by the caller with the part of its API the test uses, or why it cannot
 * run here (Chromium or the package missing).
 */
export async function findPlaywright<P>(): Promise<P | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (install Debian's chromium: apt-get install -y --no-install-recommends chromium)`;
  try {
    const name = 'playwright-core';
    return (await import(/* @vite-ignore */ name)) as P;
  } catch {
    return 'the playwright-core package is not installed (it is a devDependency of medvae: npm install)';
  }
}
