// A user's browser app, `import { UNetSegmenter, useBackend } from 'medvae'` plus the GPU entry
// points (test/bundle/app), bundled against medvae's built dist with Vite and with esbuild
// (--platform=browser, nothing external): both must build without warnings, and both bundles must
// train on webgl in headless Chromium (SwiftShader), keep the previous backend after a failed
// useBackend('webgpu'), and save to downloads://. In a second Chromium with a WebGPU adapter
// (SwiftShader's Vulkan, see WEBGPU_ARGS) the Vite bundle trains the same steps on wasm, webgl and
// webgpu, and the three loss curves agree.
//
// The dist is rebuilt (tsup) when a source file is newer. Skipped, with the reason printed, only
// when /usr/bin/chromium (or $MEDVAE_CHROMIUM) or playwright-core is missing (.ci/run installs
// Debian's chromium).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, WEBGPU_ARGS, findPlaywright } from '../helpers/chromium.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface PwPage {
  goto(url: string): Promise<unknown>;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  evaluate<T>(fn: string): Promise<T>;
  on(event: 'console' | 'pageerror', listener: (msg: { text?: () => string; message?: string }) => void): void;
}
interface PwBrowser {
  newPage(options?: { acceptDownloads?: boolean }): Promise<PwPage>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<PwBrowser> };
}

const playwright = await findPlaywright<Playwright>();
const skipReason = typeof playwright === 'string' ? playwright : null;
if (skipReason !== null) console.log(`[test/bundle/browser-bundle] skipped: ${skipReason}`);

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Runs a child process without blocking this worker's event loop: a synchronous build of a minute
 * or more starves vitest's messages to the worker ("Timeout calling onTaskUpdate") on a loaded machine.
 */
function runChild(cmd: string, args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Builds dist with tsup unless it is newer than every source file. */
async function ensureDist(): Promise<void> {
  const dist = join(ROOT, 'dist', 'index.js');
  const entries = ['index.js', 'backends/webgl.js', 'backends/webgpu.js'].map((f) => join(ROOT, 'dist', f));
  const stale = !entries.every(existsSync) || statSync(dist).mtimeMs < Math.max(newest(join(ROOT, 'src')), statSync(join(ROOT, 'tsup.config.ts')).mtimeMs);
  if (!stale) return;
  const build = await runChild(process.execPath, [join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js')], ROOT);
  expect(build.status, build.stderr).toBe(0);
}

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
    readFile(file).then((b) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(b), () => res.writeHead(404).end());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

interface TrainReport { active: string; losses: number[]; webgpuError: string | null; afterFailedSwitch: string; saved: string | null }

describe.skipIf(skipReason !== null)('a browser app bundling medvae', () => {
  let work = '';
  let browser: PwBrowser | null = null;
  const servers: Server[] = [];
  const builds: Record<'vite' | 'esbuild', { dir: string; diagnostics: string }> = { vite: { dir: '', diagnostics: '' }, esbuild: { dir: '', diagnostics: '' } };

  beforeAll(async () => {
    await ensureDist();
    work = await mkdtemp(join(tmpdir(), 'medvae-bundle-'));
    const app = join(work, 'app');
    await cp(join(ROOT, 'test', 'bundle', 'app'), app, { recursive: true });
    // The app depends on medvae as an installed package (its exports map and dist).
    await mkdir(join(app, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(app, 'node_modules', 'medvae'), 'dir');
    // Vite: the bundle is one large chunk; the limit is the app's choice, raised so that Vite's
    // advisory size note is not mistaken for a problem. Every other message counts.
    await writeFile(join(app, 'vite.config.mjs'), "export default { logLevel: 'warn', build: { outDir: 'vite-out', emptyOutDir: true, chunkSizeWarningLimit: 100000 } };\n");
    const vite = await runChild(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'vite.config.mjs'], app);
    expect(vite.status, vite.stderr).toBe(0);
    builds.vite = { dir: join(app, 'vite-out'), diagnostics: `${vite.stdout}${vite.stderr}`.trim() };
    const esOut = join(app, 'esbuild-out');
    await mkdir(esOut, { recursive: true });
    await cp(join(app, 'index.html'), join(esOut, 'index.html'));
    const esbuild = await runChild(join(ROOT, 'node_modules', '.bin', 'esbuild'), ['app.js', '--bundle', '--platform=browser', '--format=esm', '--minify', `--outfile=${join(esOut, 'app.js')}`, '--log-level=warning', '--log-limit=0'], app);
    builds.esbuild = { dir: esOut, diagnostics: `${esbuild.stdout}${esbuild.stderr}`.trim() };
    expect(esbuild.status, esbuild.stderr).toBe(0);
    for (const dir of [builds.vite.dir, builds.esbuild.dir]) {
      for (const f of WASM_FILES) await cp(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', f), join(dir, f));
    }
    browser = await (playwright as Playwright).chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 600_000);

  let gpuBrowser: PwBrowser | null = null;

  afterAll(async () => {
    await gpuBrowser?.close();
    await browser?.close();
    for (const s of servers) s.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(['vite', 'esbuild'] as const)('%s builds it without a warning', (tool) => {
    expect(builds[tool].diagnostics).toBe('');
  });

  it.each(['vite', 'esbuild'] as const)('the %s bundle trains on webgl in Chromium', async (tool) => {
    const { server, url } = await serve(builds[tool].dir);
    servers.push(server);
    const page = await browser!.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message ?? ''));
    await page.goto(url);
    await page.waitForFunction('window.medvaeReady === true', undefined, { timeout: 60_000 });
    const r = await page.evaluate<TrainReport>('window.medvaeTrain("webgl", 6)');
    console.log(`[test/bundle/browser-bundle] ${tool} webgl losses: ${r.losses.map((l) => l.toFixed(5)).join(' ')}`);
    expect(errors).toEqual([]);
    expect(r.active).toBe('webgl');
    expect(r.losses).toHaveLength(6);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses[5]).toBeLessThan(r.losses[0]);
    // No WebGPU adapter in this Chromium (no --enable-unsafe-webgpu): the switch fails, webgl stays.
    expect(r.webgpuError).toMatch(/^BackendError: /);
    expect(r.afterFailedSwitch).toBe('webgl');
    expect(r.saved).toBe('ok');
    if (tool === 'vite') {
      // The same steps on wasm in the same page: webgl's float32 losses agree with wasm's.
      const w = await page.evaluate<TrainReport>('window.medvaeTrain("wasm", 6)');
      console.log(`[test/bundle/browser-bundle] ${tool} wasm  losses: ${w.losses.map((l) => l.toFixed(5)).join(' ')}`);
      expect(w.active).toBe('wasm');
      for (let i = 0; i < 6; i++) expect(Math.abs(r.losses[i] - w.losses[i]), `step ${i}`).toBeLessThan(1e-4 * Math.abs(w.losses[i]));
    }
  }, 300_000);

  it('the vite bundle trains on wasm, webgl and webgpu in a Chromium with WebGPU, with equal losses', async () => {
    const { server, url } = await serve(builds.vite.dir);
    servers.push(server);
    gpuBrowser = await (playwright as Playwright).chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', ...WEBGPU_ARGS, '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await gpuBrowser.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message ?? ''));
    await page.goto(url);
    await page.waitForFunction('window.medvaeReady === true', undefined, { timeout: 60_000 });
    const curves: Record<string, number[]> = {};
    for (const backend of ['wasm', 'webgl', 'webgpu']) {
      const r = await page.evaluate<TrainReport>(`window.medvaeTrain("${backend}", 6)`);
      console.log(`[test/bundle/browser-bundle] vite ${backend.padEnd(6)} losses (WebGPU Chromium): ${r.losses.map((l) => l.toFixed(5)).join(' ')}`);
      expect(r.active).toBe(backend);
      expect(r.losses).toHaveLength(6);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      curves[backend] = r.losses;
    }
    expect(errors).toEqual([]);
    expect(curves.webgpu[5]).toBeLessThan(curves.webgpu[0]);
    // All three compute in float32 and differ only in rounding (other convolution and summation
    // orders): 6 Adam steps keep them within 1e-4 relative; a wrong kernel is off by far more.
    for (const backend of ['webgl', 'webgpu']) {
      for (let i = 0; i < 6; i++) expect(Math.abs(curves[backend][i] - curves.wasm[i]), `${backend} step ${i}`).toBeLessThan(1e-4 * Math.abs(curves.wasm[i]));
    }
  }, 300_000);
});
