// Headless Chromium for the browser tests: Debian's chromium driven by playwright-core, or the
// reason the tests skip where either is missing (.ci/run installs both).
import { existsSync } from 'node:fs';

/**
 * Flags that give headless Chromium a WebGPU adapter on a machine without a GPU: WebGPU on Linux
 * is behind `--enable-unsafe-webgpu`, and the adapter is then SwiftShader's (CPU) Vulkan, which
 * `--use-webgpu-adapter=swiftshader` also picks where a GPU exists, so every machine runs the same
 * adapter. Pages must be served from a secure origin (http://127.0.0.1 counts) to see navigator.gpu.
 */
export const WEBGPU_ARGS: readonly string[] = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

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
