// End-to-end test of the browser demo (examples/web): builds it with Vite, serves it on
// 127.0.0.1, and drives Debian's Chromium through playwright-core. A tiny UNetSegmenter (and an
// untrained tiny DDPM) are made here and bundled with the page, so nothing depends on
// `npm run example`. The page must reproduce Node's segmentation of the same Colin27 slice (Dice
// equal to 1e-3) and Node's DDIM samples, and show a readable error for a corrupt file. Its
// fine-tuning panel must train on wasm with finite, falling losses (or a Dice no worse), stop on
// Stop, and save a model that loads back from IndexedDB after a reload and from the download.
//
// Skipped, with the reason printed, when /usr/bin/chromium (or $MEDVAE_CHROMIUM) or the
// playwright-core package is missing. The screenshots go to $MEDVAE_TEST_ARTIFACTS, default
// <os temp dir>/medvae-test-artifacts; their paths are printed.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGrid } from '../../examples/web/generate.js';
import {
  ArrayDataset, DDPM, NiftiVolume, UNetSegmenter, datasetToArray, loadColin27Slices, writeNifti, writePng, type ImageData2D, type Sample,
} from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';
import { CHROMIUM, findPlaywright } from '../helpers/chromium.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ARTIFACTS = process.env.MEDVAE_TEST_ARTIFACTS ?? join(tmpdir(), 'medvae-test-artifacts');

// The few playwright-core calls used here, typed locally so the test compiles without the package.
interface PwLocator {
  getAttribute(name: string): Promise<string | null>;
  textContent(): Promise<string | null>;
  isVisible(): Promise<boolean>;
  fill(value: string): Promise<void>;
  click(): Promise<void>;
}
interface PwDownload {
  suggestedFilename(): string;
  saveAs(path: string): Promise<void>;
}
interface PwPage {
  goto(url: string): Promise<unknown>;
  reload(): Promise<unknown>;
  setInputFiles(selector: string, files: string | string[] | { name: string; mimeType: string; buffer: Buffer }): Promise<void>;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  evaluate<T>(fn: string): Promise<T>;
  locator(selector: string): PwLocator;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'console', listener: (msg: { text(): string; type(): string }) => void): void;
  on(event: 'pageerror', listener: (err: Error) => void): void;
  on(event: 'download', listener: (download: PwDownload) => void): void;
}
interface PwContext {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(userDataDir: string, options: {
      executablePath: string; headless: boolean; args: string[]; viewport?: { width: number; height: number }; acceptDownloads?: boolean;
    }): Promise<PwContext>;
  };
}


const playwright = await findPlaywright<Playwright>();
const skipReason = typeof playwright === 'string' ? playwright : null;
if (skipReason !== null) console.log(`[test/browser/web-demo] skipped: ${skipReason}`);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.png': 'image/png',
};

/** A static server for `dir` on 127.0.0.1 and a random port. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Foreground Dice counted by hand (independent of the page's computeDice path). */
function dice(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let inter = 0;
  let p = 0;
  let t = 0;
  for (let i = 0; i < pred.length; i++) {
    const a = pred[i] > 0 ? 1 : 0;
    const b = truth[i] > 0 ? 1 : 0;
    inter += a & b;
    p += a;
    t += b;
  }
  return (2 * inter) / (p + t);
}

describe.skipIf(skipReason !== null)('examples/web in headless Chromium', () => {
  const pw = playwright as Playwright;
  let work: string;
  let site: string;
  let server: Server | undefined;
  let baseUrl: string;
  let context: PwContext | undefined;
  let page: PwPage;
  const browserLog: string[] = [];
  const downloads: PwDownload[] = [];
  let imagePng: string;
  let maskPng: string;
  let imageNii: string;
  let maskNii: string;
  let heldIndex: number;
  let slices: Sample[];
  let nodeDice: number;
  let nodeGrid: ImageData2D;

  beforeAll(async () => {
    await setupBackend('wasm');
    work = await mkdtemp(join(tmpdir(), 'medvae-web-'));
    site = join(work, 'site');

    // A tiny segmenter, trained in seconds on every fifth axial Colin27 slice.
    slices = await datasetToArray(await loadColin27Slices({ axes: ['axial'] }));
    // (Instance norm: batch norm's running statistics are still far off after 8 steps.)
    const started = Date.now();
    const segmenter = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8, 16], norm: 'instance', seed: 0 });
    await segmenter.fit(new ArrayDataset(slices.filter((_, i) => i % 5 === 0)), { epochs: 2, batchSize: 8, lr: 1e-2, seed: 0, onProgress: 'none' });
    const trained = Date.now();
    await segmenter.save(join(work, 'segmenter'));

    // A held-out slice as 8-bit PNGs (the embedded data is uint8 / 255, so this is lossless), and Node's answer.
    heldIndex = Math.floor(slices.length / 2) + (Math.floor(slices.length / 2) % 5 === 0 ? 1 : 0);
    const held = slices[heldIndex];
    const [h, w] = held.image.shape;
    const grey = Uint8Array.from(held.image.data, (v) => Math.round(v * 255));
    const mask = Uint8Array.from(held.mask?.data ?? [], (v) => (v > 0 ? 255 : 0));
    imagePng = join(work, 'colin27-axial.png');
    maskPng = join(work, 'colin27-axial-mask.png');
    await writeFile(imagePng, writePng({ width: w, height: h, channels: 1, data: grey, bitDepth: 8 }));
    await writeFile(maskPng, writePng({ width: w, height: h, channels: 1, data: mask, bitDepth: 8 }));

    // The axial slices stacked into a RAS volume (x = column, y = row from the bottom, as the page
    // shows axial slices with rows flipped), so the page's slice `heldIndex` is the PNG above.
    const n = slices.length;
    const vox = new Uint8Array(w * h * n);
    const maskVox = new Uint8Array(w * h * n);
    slices.forEach((s, z) => {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const at = z * w * h + (h - 1 - r) * w + c;
          vox[at] = Math.round(s.image.data[r * w + c] * 255);
          maskVox[at] = (s.mask?.data[r * w + c] ?? 0) > 0 ? 1 : 0;
        }
      }
    });
    // The page maps a volume's min..max to [0, 1]; the template peaks at 235, so one voxel of the
    // first slice is set to 255 to give the volume the PNG's 0..255 scale.
    vox[0] = 255;
    imageNii = join(work, 'colin27-axial.nii.gz');
    maskNii = join(work, 'colin27-axial-mask.nii.gz');
    await writeFile(imageNii, writeNifti(new NiftiVolume({ dims: [w, h, n], data: vox }), { gzip: true }));
    await writeFile(maskNii, writeNifti(new NiftiVolume({ dims: [w, h, n], data: maskVox }), { gzip: true }));

    const x = tf.tensor4d(Float32Array.from(grey, (v) => v / 255), [1, h, w, 1]);
    const labels = segmenter.predict(x);
    nodeDice = dice(await labels.data(), mask);
    tf.dispose([x, labels]);
    segmenter.dispose();

    // An untrained tiny DDPM: the page must sample exactly what Node samples.
    const ddpm = new DDPM({ inChannels: 1, channels: [8, 16], sampleSize: 16, numTrainTimesteps: 50, seed: 0 });
    await ddpm.save(join(work, 'ddpm'));
    nodeGrid = (await generateGrid(ddpm, { n: 2, steps: 3, seed: 7 })).grid;
    ddpm.dispose();

    // Build the page with both models bundled.
    const saved = { seg: process.env.MEDVAE_SEGMENTER_MODEL, ddpm: process.env.MEDVAE_DDPM_MODEL };
    process.env.MEDVAE_SEGMENTER_MODEL = join(work, 'segmenter');
    process.env.MEDVAE_DDPM_MODEL = join(work, 'ddpm');
    try {
      const vite = await import('vite');
      await vite.build({ configFile: join(ROOT, 'examples', 'web', 'vite.config.ts'), logLevel: 'error', build: { outDir: site, emptyOutDir: true } });
    } finally {
      for (const [k, v] of [['MEDVAE_SEGMENTER_MODEL', saved.seg], ['MEDVAE_DDPM_MODEL', saved.ddpm]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(JSON.parse(await readFile(join(site, 'models.json'), 'utf8'))).toEqual({ segmenter: true, ddpm: true });
    console.log(`[test/browser/web-demo] training ${((trained - started) / 1000).toFixed(1)} s, Vite build ${((Date.now() - trained) / 1000).toFixed(1)} s (wall clock)`);

    ({ server, url: baseUrl } = await serve(site));
    context = await pw.chromium.launchPersistentContext(join(work, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('console', (m) => browserLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => browserLog.push(`pageerror: ${e.message}`));
    page.on('download', (d) => downloads.push(d));
    await page.goto(`${baseUrl}?backend=wasm`);
    await page.waitForFunction("document.body.dataset.busy === 'false'", undefined, { timeout: 60_000 });
    // (Up to 300 s: on a busy 2-core machine the Vite build alone took 156–176 s.)
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (work) await rm(work, { recursive: true, force: true });
  });

  const errorText = () => page.locator('#error').textContent();
  const why = async () => `page error box: ${await errorText()}\nbrowser log:\n${browserLog.join('\n')}`;

  it('segments a dropped Colin27 PNG slice as Node does, on wasm', async () => {
    expect(await page.locator('#error').isVisible(), await why()).toBe(false);
    expect(await page.locator('#model-status').textContent()).toMatch(/UNetSegmenter: 2 class\(es\), channels \[4, 8, 16\]/);
    expect(await page.locator('#backend-used').textContent()).toBe('–');

    await page.setInputFiles('#image-file', imagePng);
    await page.waitForFunction("document.body.dataset.runs === '1' && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
    expect(await page.locator('#dice').textContent(), await why()).toBe('no mask');

    await page.setInputFiles('#mask-file', maskPng);
    await page.waitForFunction("document.body.dataset.runs === '2' && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
    const browserDice = Number(await page.locator('#dice').getAttribute('data-value'));
    expect(nodeDice).toBeGreaterThan(0.9); // a real segmentation (not all-brain), so equal Dice means equal masks
    expect(Math.abs(browserDice - nodeDice), `browser Dice ${browserDice} vs Node ${nodeDice}\n${await why()}`).toBeLessThan(1e-3);
    expect(await page.locator('#backend-used').textContent()).toBe('wasm');
    expect(Number(await page.locator('#time').getAttribute('data-value'))).toBeGreaterThan(0);
    const size = await page.evaluate<number[]>("[document.getElementById('overlay').width, document.getElementById('overlay').height]");
    expect(size).toEqual([128, 128]);
    expect(await page.locator('#slice-controls').isVisible()).toBe(false);
  });

  it('switches backends from the selector, and names what is missing', async () => {
    const runs = Number(await page.evaluate<string>('document.body.dataset.runs'));
    await page.evaluate("(() => { const s = document.getElementById('backend'); s.value = 'cpu'; s.dispatchEvent(new Event('change')); })()");
    await page.waitForFunction(`Number(document.body.dataset.runs) > ${runs} && document.body.dataset.busy === 'false'`, undefined, { timeout: 30_000 });
    expect(await page.locator('#backend-used').textContent(), await why()).toBe('cpu');
    expect(Math.abs(Number(await page.locator('#dice').getAttribute('data-value')) - nodeDice)).toBeLessThan(1e-3);

    // webgl is not installed here: the page says which package to add and stays on cpu.
    const optional = await page.evaluate<string>("document.querySelector('#backend option[value=webgl]').textContent");
    if (optional.includes('not built in')) {
      await page.evaluate("(() => { const s = document.getElementById('backend'); s.value = 'webgl'; s.dispatchEvent(new Event('change')); })()");
      await page.waitForFunction("!document.getElementById('error').hidden && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
      expect(await errorText()).toMatch(/^BackendError: .*@tensorflow\/tfjs-backend-webgl/);
      expect(await page.evaluate<string>("document.getElementById('backend').value")).toBe('cpu');
    }

    // Back to wasm, with the model chosen as files (model.json + weights.bin) instead of the bundled copy.
    await page.evaluate("(() => { const s = document.getElementById('backend'); s.value = 'wasm'; s.dispatchEvent(new Event('change')); })()");
    await page.waitForFunction("document.getElementById('backend-used').textContent === 'wasm' && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
    const before = Number(await page.evaluate<string>('document.body.dataset.runs'));
    await page.setInputFiles('#model-files', [join(work, 'segmenter', 'model.json'), join(work, 'segmenter', 'weights.bin')]);
    await page.waitForFunction(`Number(document.body.dataset.runs) > ${before} && document.body.dataset.busy === 'false'`, undefined, { timeout: 30_000 });
    expect(await page.locator('#model-status').textContent(), await why()).toMatch(/from the chosen files/);
    expect(Math.abs(Number(await page.locator('#dice').getAttribute('data-value')) - nodeDice)).toBeLessThan(1e-3);
  });

  it('cuts a dropped NIfTI volume at the slice chosen with the slider', async () => {
    const runs = async () => Number(await page.evaluate<string>('document.body.dataset.runs'));
    const waitRun = async (after: number) => {
      try {
        await page.waitForFunction(`Number(document.body.dataset.runs) > ${after} && document.body.dataset.busy === 'false'`, undefined, { timeout: 30_000 });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await why()}`);
      }
    };
    let before = await runs();
    await page.setInputFiles('#image-file', imageNii);
    await waitRun(before);
    expect(await page.locator('#slice-controls').isVisible(), await why()).toBe(true);
    expect(await page.locator('#slice').getAttribute('max')).toBe(String(slices.length - 1));
    expect(await page.locator('#scan-info').textContent()).toContain(`NIfTI volume 128×128×${slices.length} (uint8)`);
    before = await runs();
    await page.setInputFiles('#mask-file', maskNii);
    await waitRun(before);
    before = await runs();
    await page.evaluate(`(() => { const s = document.getElementById('slice'); s.value = '${heldIndex}'; s.dispatchEvent(new Event('input')); })()`);
    await waitRun(before);
    expect(await page.locator('#slice-label').textContent()).toBe(`${heldIndex} / ${slices.length - 1}`);
    const browserDice = Number(await page.locator('#dice').getAttribute('data-value'));
    expect(Math.abs(browserDice - nodeDice), `browser Dice ${browserDice} vs Node ${nodeDice}\n${await why()}`).toBeLessThan(1e-3);
  });

  it('reads a 2-D image after a volume (the volume\'s slice index is not carried over)', async () => {
    const runs = async () => Number(await page.evaluate<string>('document.body.dataset.runs'));
    let before = await runs();
    await page.setInputFiles('#image-file', imagePng);
    await page.waitForFunction(`Number(document.body.dataset.runs) > ${before} && document.body.dataset.busy === 'false'`, undefined, { timeout: 30_000 });
    expect(await page.locator('#error').isVisible(), (await errorText()) ?? undefined).toBe(false);
    before = await runs();
    await page.setInputFiles('#mask-file', maskPng);
    await page.waitForFunction(`Number(document.body.dataset.runs) > ${before} && document.body.dataset.busy === 'false'`, undefined, { timeout: 30_000 });
    expect(await page.locator('#error').isVisible(), (await errorText()) ?? undefined).toBe(false);
    expect(await page.locator('#slice-controls').isVisible()).toBe(false);
    expect(Math.abs(Number(await page.locator('#dice').getAttribute('data-value')) - nodeDice)).toBeLessThan(1e-3);
  });

  it('samples the bundled DDPM with DDIM as Node does, with a progress bar', async () => {
    expect(await page.locator('#ddpm-status').textContent()).toMatch(/^DDPM: T = 50/);
    await page.locator('#ddpm-n').fill('2');
    await page.locator('#ddpm-steps').fill('3');
    await page.locator('#ddpm-seed').fill('7');
    await page.locator('#ddpm-run').click();
    await page.waitForFunction("document.getElementById('ddpm-info').dataset.done === 'true' && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
    expect(await page.evaluate<number>("document.getElementById('ddpm-progress').value")).toBe(1);
    const shot = await page.evaluate<{ w: number; h: number; rgba: number[] }>(
      "(() => { const c = document.getElementById('samples'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; " +
        'return { w: c.width, h: c.height, rgba: Array.from(d) }; })()',
    );
    expect([shot.w, shot.h]).toEqual([nodeGrid.width, nodeGrid.height]);
    let worst = 0;
    for (let i = 0; i < shot.w * shot.h; i++) worst = Math.max(worst, Math.abs(shot.rgba[i * 4] - nodeGrid.data[i]));
    expect(worst, 'largest grey-level difference between the browser and Node samples').toBeLessThanOrEqual(2);

    await mkdir(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'web-demo.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`[test/browser/web-demo] screenshot: ${path}`);
  });

  it('shows a readable message for a corrupt file instead of a blank page', async () => {
    await page.setInputFiles('#image-file', { name: 'broken.nii.gz', mimeType: 'application/gzip', buffer: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]) });
    await page.waitForFunction("!document.getElementById('error').hidden && document.body.dataset.busy === 'false'", undefined, { timeout: 30_000 });
    const text = (await errorText()) ?? '';
    expect(text).toMatch(/^FileFormatError: /);
    expect(text).toContain('broken.nii.gz');
    expect(await page.locator('h1').isVisible()).toBe(true);
    const path = join(ARTIFACTS, 'web-demo-error.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`[test/browser/web-demo] screenshot: ${path}`);
  });

  it('fine-tunes the model on the loaded slice and mask, then saves it to IndexedDB and as a download', async () => {
    const started = Date.now();
    const laps: string[] = [];
    let lapStart = started;
    const lap = (name: string) => {
      laps.push(`${name} ${((Date.now() - lapStart) / 1000).toFixed(1)} s`);
      lapStart = Date.now();
    };
    const logFrom = browserLog.length;
    const runs = async () => Number(await page.evaluate<string>('document.body.dataset.runs'));
    const waitFor = async (condition: string, timeout = 30_000) => {
      try {
        await page.waitForFunction(`(${condition}) && document.body.dataset.busy === 'false'`, undefined, { timeout });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await why()}`);
      }
    };
    const loadSlice = async () => {
      let before = await runs();
      await page.setInputFiles('#image-file', imagePng);
      await waitFor(`Number(document.body.dataset.runs) > ${before}`);
      before = await runs();
      await page.setInputFiles('#mask-file', maskPng);
      await waitFor(`Number(document.body.dataset.runs) > ${before}`);
    };
    const shownDice = async () => Number(await page.locator('#dice').getAttribute('data-value'));
    await loadSlice();
    lap('image + mask');

    const steps = 5;
    await page.locator('#ft-steps').fill(String(steps));
    await page.locator('#ft-run').click();
    await waitFor("document.getElementById('ft-dice').dataset.after !== undefined", 60_000);
    const losses = JSON.parse((await page.locator('#ft-log').getAttribute('data-losses')) ?? '[]') as (number | null)[];
    const diceBefore = Number(await page.locator('#ft-dice').getAttribute('data-before'));
    let diceAfter = Number(await page.locator('#ft-dice').getAttribute('data-after'));
    console.log(`[test/browser/web-demo] fine-tuning on wasm: losses ${losses.join(', ')}; Dice ${diceBefore} -> ${diceAfter}`);
    expect(losses, await why()).toHaveLength(steps);
    for (const l of losses) expect(Number.isFinite(l), `loss ${l}`).toBe(true);
    expect((losses[steps - 1] as number) < (losses[0] as number) || diceAfter >= diceBefore, `losses ${losses.join(', ')}, Dice ${diceBefore} -> ${diceAfter}`).toBe(true);
    expect(await page.locator('#ft-log').textContent()).toBe(`step ${steps} / ${steps} — loss ${(losses[steps - 1] as number).toFixed(4)}`);
    // The page now predicts with the copy it read back from IndexedDB: the fine-tuned model's Dice.
    expect(await page.locator('#model-status').textContent()).toMatch(/from the fine-tuned copy saved in this browser \(IndexedDB\)/);
    expect(Math.abs((await shownDice()) - diceAfter)).toBeLessThan(1e-6);
    lap(`${steps} steps + save + read back`);
    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'web-demo-finetune.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`[test/browser/web-demo] screenshot: ${shot}`);

    // Stop, clicked as soon as it is enabled (the page handles the click between steps), ends a
    // long run after the step it is in; what was trained is saved and shown.
    await page.locator('#ft-steps').fill('1000');
    await page.locator('#ft-run').click();
    await page.locator('#ft-stop').click();
    await waitFor("document.getElementById('ft-dice').dataset.after !== undefined");
    const stopped = JSON.parse((await page.locator('#ft-log').getAttribute('data-losses')) ?? '[]') as (number | null)[];
    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.length).toBeLessThan(1000);
    for (const l of stopped) expect(Number.isFinite(l), `loss ${l}`).toBe(true);
    expect(await page.locator('#ft-log').textContent()).toMatch(new RegExp(`^step ${stopped.length} / 1000 — loss \\S+ — stopped after ${stopped.length} step\\(s\\)$`));
    expect(await page.evaluate<boolean>("document.getElementById('ft-stop').disabled")).toBe(true);
    diceAfter = Number(await page.locator('#ft-dice').getAttribute('data-after'));
    expect(Math.abs((await shownDice()) - diceAfter)).toBeLessThan(1e-6);
    lap(`stopped run (${stopped.length} steps)`);

    // The download is the model's two files, which the page's model picker loads.
    const at = downloads.length;
    await page.locator('#ft-download').click();
    await waitFor(`true`);
    for (let i = 0; i < 100 && downloads.length < at + 2; i++) await new Promise((r) => setTimeout(r, 100));
    const files = downloads.slice(at).map((d) => d.suggestedFilename()).sort();
    expect(files, await why()).toEqual(['medvae-finetuned-segmenter.json', 'medvae-finetuned-segmenter.weights.bin']);
    const saved = join(work, 'downloaded');
    await mkdir(saved, { recursive: true });
    const paths = await Promise.all(downloads.slice(at).map(async (d) => {
      const path = join(saved, d.suggestedFilename());
      await d.saveAs(path);
      return path;
    }));
    lap('download');

    // After a reload the page starts from the bundled model again; the saved one loads back from IndexedDB.
    await page.reload();
    await waitFor('true', 60_000);
    lap('reload');
    expect(await page.locator('#model-status').textContent()).toMatch(/from the copy bundled with this page/);
    await loadSlice();
    expect(Math.abs((await shownDice()) - nodeDice)).toBeLessThan(1e-3);
    let before = await runs();
    await page.locator('#ft-load').click();
    await waitFor(`Number(document.body.dataset.runs) > ${before}`);
    expect(await page.locator('#model-status').textContent(), await why()).toMatch(/fine-tuned copy saved in this browser/);
    expect(Math.abs((await shownDice()) - diceAfter)).toBeLessThan(1e-6);
    lap('image + mask + IndexedDB load');

    before = await runs();
    await page.setInputFiles('#model-files', paths);
    await waitFor(`Number(document.body.dataset.runs) > ${before}`);
    expect(await page.locator('#model-status').textContent(), await why()).toMatch(/from the chosen files/);
    expect(Math.abs((await shownDice()) - diceAfter)).toBeLessThan(1e-6);

    const problems = browserLog.slice(logFrom).filter((line) => /^(console\.error|pageerror)/.test(line));
    expect(problems, 'console errors while fine-tuning, saving and loading back').toEqual([]);
    lap('load of the download');
    console.log(`[test/browser/web-demo] fine-tune, save, reload and load back: ${((Date.now() - started) / 1000).toFixed(1)} s (wall clock: ${laps.join(', ')})`);
  }, 90_000);
});
