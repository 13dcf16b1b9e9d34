// The demo's fine-tuning panel: a few `fit` steps of the loaded UNetSegmenter on the slice on
// screen and the mask file the user loaded with it (the slice and its three flips make one batch,
// so a single slice gives four views), each step's loss shown as it trains, a Stop button, then the
// new prediction. The result is saved to this browser's IndexedDB and reloaded from there (so the
// page predicts with what was saved, and a backend switch or a later visit finds it again); the
// Download button saves the current model as model files.
import { ArrayDataset, ValueError, flip, type Callback, type Sample, type UNetSegmenter } from '../../src/index.js';
import { segmentSlice } from './segment.js';
import { el } from './dom.js';

/** Where the fine-tuned model is kept in this browser. */
export const SAVED_MODEL_URL = 'indexeddb://medvae-demo-finetuned-segmenter';
/** The download's file-name prefix (tfjs writes `<prefix>.json` and `<prefix>.weights.bin`). */
const DOWNLOAD_URL = 'downloads://medvae-finetuned-segmenter';

/** What the panel needs from the page. */
export interface FinetuneHost {
  /** The loaded segmenter, or null. */
  model(): UNetSegmenter | null;
  /** Where that segmenter was loaded from, or null. */
  modelUrl(): string | null;
  /** The slice on screen with its mask, prepared as the page segments it (null without an image). */
  sample(): Sample | null;
  /** Loads a segmenter as the page's model. */
  load(url: string): Promise<void>;
  /** Segments the slice on screen again with the page's model. */
  show(): Promise<void>;
  /** Runs a task in the page's queue (one task at a time; failures shown in the error box). */
  enqueue(task: () => Promise<void>): void;
}

function readNumber(input: HTMLInputElement, what: string, ok: (v: number) => boolean, expected: string): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !ok(v)) throw new ValueError(`${what} must be ${expected}, but got '${input.value}'.`);
  return v;
}

/** Wires the panel's controls (the elements with `ft-` ids in index.html). */
export function setupFinetunePanel(host: FinetuneHost): void {
  const ui = {
    steps: el<HTMLInputElement>('ft-steps'),
    lr: el<HTMLInputElement>('ft-lr'),
    run: el<HTMLButtonElement>('ft-run'),
    stop: el<HTMLButtonElement>('ft-stop'),
    progress: el<HTMLProgressElement>('ft-progress'),
    log: el<HTMLOutputElement>('ft-log'),
    dice: el<HTMLOutputElement>('ft-dice'),
    load: el<HTMLButtonElement>('ft-load'),
    download: el<HTMLButtonElement>('ft-download'),
  };
  // Set by the Stop button, which runs outside the queue (the queue is busy with the training).
  let stopAsked = false;

  async function fineTune(): Promise<void> {
    const model = host.model();
    if (model === null) throw new ValueError('No model is loaded: load a UNetSegmenter above before fine-tuning it.');
    if (model.numClasses > 2) {
      throw new ValueError(
        `This panel fine-tunes foreground/background models (numClasses 1 or 2), but the loaded one has ${model.numClasses} classes: ` +
          'the page reads a mask file as mask > 0, which would teach it to forget every class but 1.',
      );
    }
    const sample = host.sample();
    if (sample?.mask === undefined) throw new ValueError('Load an image and then its mask file above: fine-tuning teaches the model that mask on that slice.');
    const steps = readNumber(ui.steps, 'Steps', (v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer from 1 to 1000');
    const lr = readNumber(ui.lr, 'The learning rate', (v) => Number.isFinite(v) && v > 0 && v <= 1, 'a number in (0, 1]');
    const from = host.modelUrl();

    const before = (await segmentSlice(model, sample)).dice;
    const losses: number[] = [];
    ui.log.value = `step 0 / ${steps}`;
    ui.dice.value = '–';
    delete ui.log.dataset.losses;
    delete ui.dice.dataset.before;
    delete ui.dice.dataset.after;
    ui.progress.value = 0;
    const progress: Callback = {
      async onBatchEnd(p, logs, controller) {
        losses.push(logs.loss);
        ui.progress.value = p.globalStep / steps;
        ui.log.value = `step ${p.globalStep} / ${steps} — loss ${logs.loss.toFixed(4)}`;
        ui.log.dataset.losses = JSON.stringify(losses);
        if (stopAsked) controller.stop('stopped from the page');
        // A macrotask, so the browser paints the step and handles a click on Stop.
        await new Promise((r) => setTimeout(r, 0));
      },
    };
    const views = [sample, flip({ spatialAxis: 0 })(sample), flip({ spatialAxis: 1 })(sample), flip()(sample)];
    stopAsked = false;
    ui.run.disabled = true;
    ui.stop.disabled = false;
    try {
      // One batch of the four views per epoch; logEvery 1 reads each step's loss (asynchronously)
      // as soon as it is done, so the progress line follows the training.
      const result = await model.fit(new ArrayDataset(views), {
        epochs: steps, maxSteps: steps, batchSize: views.length, lr, seed: 0, logEvery: 1, onProgress: 'none', callbacks: [progress],
      });
      if (stopAsked) ui.log.value += ` — stopped after ${result.globalStep} step(s)`;
    } catch (err) {
      // The weights may be half-updated: the page goes back to the model it had.
      if (from !== null) await host.load(from);
      throw err;
    } finally {
      ui.run.disabled = false;
      ui.stop.disabled = true;
    }
    const after = (await segmentSlice(model, sample)).dice;
    await model.save(SAVED_MODEL_URL);
    await host.load(SAVED_MODEL_URL);
    await host.show();
    const fmt = (d: number | null) => (d === null || Number.isNaN(d) ? 'n/a' : d.toFixed(4));
    ui.dice.value = `${fmt(before)} → ${fmt(after)} (saved in this browser)`;
    ui.dice.dataset.before = String(before);
    ui.dice.dataset.after = String(after);
  }

  ui.run.addEventListener('click', () => host.enqueue(fineTune));
  ui.stop.addEventListener('click', () => {
    stopAsked = true;
  });
  ui.load.addEventListener('click', () => {
    host.enqueue(async () => {
      await host.load(SAVED_MODEL_URL);
      await host.show();
    });
  });
  ui.download.addEventListener('click', () => {
    host.enqueue(async () => {
      const model = host.model();
      if (model === null) throw new ValueError('No model is loaded, so there is nothing to download.');
      await model.save(DOWNLOAD_URL);
    });
  });
}
