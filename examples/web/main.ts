// The browser demo: drop a NIfTI / DICOM / PNG slice, see the UNetSegmenter's mask over it with
// Dice against an optional mask, the inference time and the backend; fine-tune the model on that
// slice and mask (finetune.ts); and sample a DDPM with DDIM.
// Every failure (a corrupt file, a missing backend, a model that does not fit) is shown on the
// page with medvae's own message.
import * as tf from '@tensorflow/tfjs-core';
import { optionalBackends } from 'virtual:medvae-optional-backends';
import { BackendError, DDPM, UNetSegmenter, useBackend, type BackendName, type ImageData2D, type Sample } from '../../src/index.js';
import { generateGrid } from './generate.js';
import { PLANES, decodeScan, fileBytes, prepareSample, splitImageAndMask, type Plane, type Scan } from './inputs.js';
import { bundledModelUrl, bundledModels, uploadedModelUrl } from './model-source.js';
import { segmentSlice } from './segment.js';
import { setupFinetunePanel } from './finetune.js';
import { el } from './dom.js';
// Compressed DICOM (JPEG, JPEG-LS, JPEG 2000): medvae's codec imports are invisible to bundlers, so
// the page imports the codecs itself (in an app: import 'medvae/dicom-codecs').
import { setDicomJpeg12WasmUrl } from '../../src/data/readers/dicom-codecs-entry.js';
// 12-bit JPEG Extended decodes in dcmjs-codecs' own .wasm file, which the page serves from its build.
import jpeg12WasmUrl from 'dcmjs-codecs/build/dcmjs-native-codecs.wasm?url';

setDicomJpeg12WasmUrl(jpeg12WasmUrl);

type PageBackend = Extract<BackendName, 'webgpu' | 'webgl' | 'wasm' | 'cpu'>;

const ui = {
  backend: el<HTMLSelectElement>('backend'),
  backendStatus: el('backend-status'),
  error: el('error'),
  modelStatus: el('model-status'),
  modelFiles: el<HTMLInputElement>('model-files'),
  drop: el('drop'),
  imageFile: el<HTMLInputElement>('image-file'),
  maskFile: el<HTMLInputElement>('mask-file'),
  sliceControls: el('slice-controls'),
  planeLabel: el('plane-label'),
  plane: el<HTMLSelectElement>('plane'),
  slice: el<HTMLInputElement>('slice'),
  sliceLabel: el<HTMLOutputElement>('slice-label'),
  fit: el<HTMLInputElement>('fit'),
  fitSize: el<HTMLInputElement>('fit-size'),
  scanInfo: el('scan-info'),
  overlay: el<HTMLCanvasElement>('overlay'),
  dice: el<HTMLOutputElement>('dice'),
  time: el<HTMLOutputElement>('time'),
  backendUsed: el<HTMLOutputElement>('backend-used'),
  ddpmStatus: el('ddpm-status'),
  ddpmFiles: el<HTMLInputElement>('ddpm-files'),
  ddpmN: el<HTMLInputElement>('ddpm-n'),
  ddpmSteps: el<HTMLInputElement>('ddpm-steps'),
  ddpmSeed: el<HTMLInputElement>('ddpm-seed'),
  ddpmRun: el<HTMLButtonElement>('ddpm-run'),
  ddpmProgress: el<HTMLProgressElement>('ddpm-progress'),
  ddpmInfo: el<HTMLOutputElement>('ddpm-info'),
  samples: el<HTMLCanvasElement>('samples'),
};

const state = {
  backend: null as PageBackend | null,
  segmenter: null as UNetSegmenter | null,
  segmenterUrl: null as string | null,
  ddpm: null as DDPM | null,
  ddpmUrl: null as string | null,
  image: null as Scan | null,
  mask: null as Scan | null,
  runs: 0,
};

// ------------------------------------------------------------------------------------------------
// Errors and the task queue: one task at a time (a backend switch must not interleave with a
// prediction), and every failure lands in the red box.

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function showError(err: unknown): void {
  ui.error.textContent = describeError(err);
  ui.error.hidden = false;
  console.error(err);
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

let queue: Promise<void> = Promise.resolve();
let pending = 0;

/** Runs `task` after the ones before it; its error is shown, never thrown. */
function enqueue(task: () => Promise<void>): Promise<void> {
  pending++;
  document.body.dataset.busy = 'true';
  queue = queue
    .then(async () => {
      clearError();
      await task();
    })
    .catch(showError)
    .finally(() => {
      pending--;
      if (pending === 0) document.body.dataset.busy = 'false';
    });
  return queue;
}

window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason));

// ------------------------------------------------------------------------------------------------
// Drawing

function draw(canvas: HTMLCanvasElement, img: ImageData2D, cssScale = 3): void {
  const { width, height, channels, data } = img;
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * cssScale}px`;
  const rgba = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const o = i * channels;
    rgba.data[i * 4] = data[o];
    rgba.data[i * 4 + 1] = channels >= 3 ? data[o + 1] : data[o];
    rgba.data[i * 4 + 2] = channels >= 3 ? data[o + 2] : data[o];
    rgba.data[i * 4 + 3] = 255;
  }
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('This browser gives no 2-D canvas context.');
  ctx.putImageData(rgba, 0, 0);
}

// ------------------------------------------------------------------------------------------------
// Backends

function builtIn(name: PageBackend): boolean {
  return name === 'wasm' || name === 'cpu' || name in optionalBackends;
}

async function activate(name: PageBackend): Promise<void> {
  ui.backendStatus.textContent = `starting ${name}…`;
  if (name === 'webgl' || name === 'webgpu') {
    const load = (optionalBackends as Partial<Record<string, () => Promise<unknown>>>)[name];
    if (load === undefined) {
      throw new BackendError(
        `This page was built without the ${name} backend: install @tensorflow/tfjs-backend-${name} ` +
          `(npm install -D @tensorflow/tfjs-backend-${name}) and rebuild it. wasm and cpu work everywhere.`,
      );
    }
    if (name === 'webgpu' && !(await hasWebGpuAdapter())) {
      throw new BackendError('This browser gives no WebGPU adapter (navigator.gpu is missing or requestAdapter() returned none); choose webgl, wasm or cpu.');
    }
    await load();
  }
  await useBackend(name, { wasmPaths: new URL('wasm/', document.baseURI).href });
  state.backend = name;
  ui.backendStatus.textContent = `${tf.getBackend()} ready`;
  // Weights live on the backend that made them: load the models again on the new one.
  if (state.segmenterUrl !== null) await loadSegmenter(state.segmenterUrl);
  if (state.ddpmUrl !== null) await loadDdpm(state.ddpmUrl);
}

/** Whether this browser gives a WebGPU adapter (navigator.gpu alone exists without one on many Linux setups). */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** Whether this browser can create a WebGL2 context. */
function hasWebGl(): boolean {
  try {
    return document.createElement('canvas').getContext('webgl2') !== null;
  } catch {
    return false;
  }
}

/** `?backend=` if given, else webgpu when an adapter exists, else webgl when a context can be made, else wasm. */
async function initialBackend(): Promise<PageBackend> {
  const asked = new URLSearchParams(location.search).get('backend');
  if (asked === 'webgpu' || asked === 'webgl' || asked === 'wasm' || asked === 'cpu') return asked;
  if (builtIn('webgpu') && (await hasWebGpuAdapter())) return 'webgpu';
  if (builtIn('webgl') && hasWebGl()) return 'webgl';
  return 'wasm';
}

// ------------------------------------------------------------------------------------------------
// Segmentation

async function loadSegmenter(url: string): Promise<void> {
  ui.modelStatus.textContent = 'Loading the model…';
  const model = await UNetSegmenter.load(url);
  state.segmenter?.dispose();
  state.segmenter = model;
  state.segmenterUrl = url;
  const c = model.config;
  ui.modelStatus.textContent =
    `UNetSegmenter: ${c.numClasses} class(es), channels [${(c.channels ?? []).join(', ')}], ` +
    `${model.numParameters().toLocaleString('en')} parameters — from ${modelOrigin(url)}.`;
}

function modelOrigin(url: string): string {
  if (url.startsWith('medvae-upload://')) return 'the chosen files';
  if (url.startsWith('indexeddb://')) return 'the fine-tuned copy saved in this browser (IndexedDB)';
  return 'the copy bundled with this page';
}

function currentPlane(): Plane {
  const p = ui.plane.value;
  return (PLANES as readonly string[]).includes(p) ? (p as Plane) : 'axial';
}

function updateSliceControls(resetIndex: boolean): void {
  const scan = state.image;
  if (scan === null || !scan.isStack) {
    ui.sliceControls.hidden = true;
    // A single image has only slice 0; the index left by a previous volume (e.g. 90) must not be
    // carried over to it.
    ui.slice.value = '0';
    return;
  }
  ui.sliceControls.hidden = false;
  ui.planeLabel.hidden = !scan.isVolume;
  const count = scan.sliceCount(currentPlane());
  ui.slice.max = String(count - 1);
  if (resetIndex || Number(ui.slice.value) > count - 1) ui.slice.value = String(Math.floor(count / 2));
  ui.sliceLabel.value = `${ui.slice.value} / ${count - 1}`;
}

/** The slice on screen (and its mask) as the model sees it. */
function currentSample(scan: Scan): Sample {
  const fitSize = ui.fit.checked ? Number(ui.fitSize.value) : null;
  return prepareSample(scan, state.mask, {
    plane: currentPlane(),
    index: Number(ui.slice.value),
    fitSize: fitSize !== null && Number.isInteger(fitSize) && fitSize > 0 ? fitSize : null,
  });
}

async function segmentCurrent(): Promise<void> {
  const scan = state.image;
  if (scan === null) return;
  if (state.segmenter === null) {
    ui.dice.value = '–';
    throw new Error('No model is loaded: run `npm run example` and rebuild this page, or choose model.json + weights.bin above.');
  }
  const sample = currentSample(scan);
  const result = await segmentSlice(state.segmenter, sample);
  draw(ui.overlay, result.overlay);
  ui.dice.value = result.dice === null ? 'no mask' : Number.isNaN(result.dice) ? 'n/a (empty mask)' : result.dice.toFixed(4);
  if (result.dice !== null) ui.dice.dataset.value = String(result.dice);
  else delete ui.dice.dataset.value;
  ui.time.value = `${result.ms.toFixed(1)} ms`;
  ui.time.dataset.value = String(result.ms);
  ui.backendUsed.value = tf.getBackend();
  state.runs++;
  document.body.dataset.runs = String(state.runs);
}

async function readScan(file: File): Promise<Scan> {
  return decodeScan(await fileBytes(file), file.name);
}

function clearResult(): void {
  ui.scanInfo.textContent = '';
  ui.dice.value = '–';
  delete ui.dice.dataset.value;
  ui.time.value = '–';
  delete ui.time.dataset.value;
  ui.overlay.getContext('2d')?.clearRect(0, 0, ui.overlay.width, ui.overlay.height);
}

async function takeFiles(image: File | undefined, mask: File | undefined): Promise<void> {
  if (image !== undefined) {
    // Nothing of the previous image may stay on screen if this one fails to read, and its mask
    // belongs to it: a new image starts without one (choose the mask after the image).
    state.image = null;
    state.mask = null;
    if (mask === undefined) ui.maskFile.value = '';
    clearResult();
    updateSliceControls(true);
    state.image = await readScan(image);
    updateSliceControls(true);
  }
  if (mask !== undefined) {
    state.mask = null;
    state.mask = await readScan(mask);
  }
  const info = [state.image?.description, state.mask ? `mask: ${state.mask.description}` : undefined].filter(Boolean);
  ui.scanInfo.textContent = info.length > 0 ? `${state.image?.name ?? ''}: ${info.join('; ')}` : '';
  await segmentCurrent();
}

// ------------------------------------------------------------------------------------------------
// Generation

async function loadDdpm(url: string): Promise<void> {
  ui.ddpmStatus.textContent = 'Loading the DDPM…';
  const model = await DDPM.load(url);
  state.ddpm?.dispose();
  state.ddpm = model;
  state.ddpmUrl = url;
  const c = model.config;
  ui.ddpmStatus.textContent = `DDPM: T = ${c.numTrainTimesteps}, ${c.inChannels} channel(s), sample size ${JSON.stringify(c.sampleSize)}, ` +
    `${model.numParameters().toLocaleString('en')} parameters.`;
  ui.ddpmRun.disabled = false;
}

async function generate(): Promise<void> {
  if (state.ddpm === null) throw new Error('No DDPM is loaded: choose its model.json + weights.bin above.');
  ui.ddpmProgress.value = 0;
  ui.ddpmRun.disabled = true;
  try {
    const { grid, ms } = await generateGrid(state.ddpm, {
      n: Math.max(1, Math.min(16, Math.round(Number(ui.ddpmN.value) || 1))),
      steps: Math.max(1, Math.round(Number(ui.ddpmSteps.value) || 1)),
      seed: Math.round(Number(ui.ddpmSeed.value) || 0),
      onProgress: async (fraction) => {
        ui.ddpmProgress.value = fraction;
        // Let the browser paint the bar between steps.
        await new Promise((r) => setTimeout(r, 0));
      },
    });
    draw(ui.samples, grid, Math.max(1, Math.floor(384 / grid.width)));
    ui.ddpmInfo.value = `${(ms / 1000).toFixed(2)} s on ${tf.getBackend()}`;
    ui.ddpmInfo.dataset.done = 'true';
  } finally {
    ui.ddpmRun.disabled = false;
  }
}

// ------------------------------------------------------------------------------------------------
// Wiring

for (const opt of Array.from(ui.backend.options)) {
  if (!builtIn(opt.value as PageBackend)) opt.textContent = `${opt.value} (not built in)`;
}

ui.backend.addEventListener('change', () => {
  void enqueue(async () => {
    try {
      await activate(ui.backend.value as PageBackend);
    } catch (err) {
      // The previous backend is still active: say so in the selector too.
      if (state.backend !== null) ui.backend.value = state.backend;
      ui.backendStatus.textContent = `${tf.getBackend()} ready`;
      throw err;
    }
    await segmentCurrent();
  });
});

ui.modelFiles.addEventListener('change', () => {
  const files = Array.from(ui.modelFiles.files ?? []);
  void enqueue(async () => {
    await loadSegmenter(uploadedModelUrl(files, 'segmenter'));
    await segmentCurrent();
  });
});

ui.imageFile.addEventListener('change', () => {
  const file = ui.imageFile.files?.[0];
  void enqueue(() => takeFiles(file, undefined));
});

ui.maskFile.addEventListener('change', () => {
  const file = ui.maskFile.files?.[0];
  void enqueue(() => takeFiles(undefined, file));
});

ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const { image, mask } = splitImageAndMask(Array.from(e.dataTransfer?.files ?? []));
  void enqueue(async () => {
    if (image === undefined) throw new Error('Nothing usable was dropped: drop a .nii/.nii.gz, DICOM, PNG or JPEG file.');
    await takeFiles(image, mask);
  });
});

// Slider moves come fast: only the latest position is segmented.
let sliceTimer: number | undefined;
function onSliceChange(resetIndex: boolean): void {
  updateSliceControls(resetIndex);
  window.clearTimeout(sliceTimer);
  sliceTimer = window.setTimeout(() => void enqueue(segmentCurrent), 30);
}
ui.slice.addEventListener('input', () => onSliceChange(false));
ui.plane.addEventListener('change', () => onSliceChange(true));
ui.fit.addEventListener('change', () => void enqueue(segmentCurrent));
ui.fitSize.addEventListener('change', () => void enqueue(segmentCurrent));

ui.ddpmFiles.addEventListener('change', () => {
  const files = Array.from(ui.ddpmFiles.files ?? []);
  void enqueue(() => loadDdpm(uploadedModelUrl(files, 'ddpm')));
});
ui.ddpmRun.addEventListener('click', () => void enqueue(generate));

setupFinetunePanel({
  model: () => state.segmenter,
  modelUrl: () => state.segmenterUrl,
  sample: () => (state.image === null ? null : currentSample(state.image)),
  load: loadSegmenter,
  show: segmentCurrent,
  enqueue: (task) => void enqueue(task),
});

// Start: the backend, then whatever models were bundled with the page.
void enqueue(async () => {
  const first = await initialBackend();
  ui.backend.value = first;
  const bundled = await bundledModels();
  try {
    await activate(first);
  } catch (err) {
    // A GPU backend that cannot start should not leave the page without one.
    if (first === 'wasm') throw err;
    showError(err);
    ui.backend.value = 'wasm';
    await activate('wasm');
  }
  if (bundled.segmenter) await loadSegmenter(bundledModelUrl('segmenter'));
  else {
    ui.modelStatus.textContent =
      'No model is bundled with this page: run `npm run example` first (it saves runs/segment-brain/model) and rebuild the page, ' +
      'or choose that model.json + weights.bin here.';
  }
  if (bundled.ddpm) await loadDdpm(bundledModelUrl('ddpm'));
  else ui.ddpmStatus.textContent = 'No DDPM is bundled with this page: run the ddpm-generation example (it saves runs/ddpm-generation/model) and rebuild the page, or choose a DDPM model.json + weights.bin here.';
});
