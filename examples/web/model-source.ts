// Where the page's models come from: the copy bundled next to the page (an http URL), or a
// model.json + weights.bin pair the user picks. The picked files are served to medvae's
// `Model.load(url)` through a tfjs load router under a private URL scheme, so the models' own
// load functions (config check, EMA, ...) run unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError } from '../../src/index.js';

const SCHEME = 'medvae-upload://';
const uploads = new Map<string, File[]>();
let routerInstalled = false;

function installRouter(): void {
  if (routerInstalled) return;
  routerInstalled = true;
  tf.io.registerLoadRouter((url: string | string[]) => {
    const key = Array.isArray(url) ? url[0] : url;
    const files = typeof key === 'string' && key.startsWith(SCHEME) ? uploads.get(key) : undefined;
    // tfjs routers answer null for URLs that are not theirs, though its typings do not say so.
    return (files ? tf.io.browserFiles(files) : null) as tf.io.IOHandler;
  });
}

/**
 * Registers a picked model.json + weights file(s) and returns a URL that `UNetSegmenter.load` or
 * `DDPM.load` accept.
 *
 * @throws FileFormatError when no `.json` file, or no weights file, is among `files`.
 */
export function uploadedModelUrl(files: readonly File[], label: string): string {
  const json = files.find((f) => f.name.endsWith('.json'));
  const weights = files.filter((f) => f !== json);
  if (json === undefined || weights.length === 0) {
    throw new FileFormatError(`Choose both files of a saved ${label}: model.json and weights.bin (got ${files.map((f) => f.name).join(', ') || 'nothing'}).`);
  }
  installRouter();
  const url = `${SCHEME}${label}/${uploads.size}/${json.name}`;
  uploads.set(url, [json, ...weights]);
  return url;
}

/** Absolute URL of a model bundled next to the page (tfjs's http loader needs an absolute one). */
export function bundledModelUrl(name: string): string {
  return new URL(`models/${name}/model.json`, document.baseURI).href;
}

/** Which models the build bundled (written by the Vite config as models.json). */
export async function bundledModels(): Promise<{ segmenter: boolean; ddpm: boolean }> {
  try {
    const res = await fetch(new URL('models.json', document.baseURI));
    if (!res.ok) return { segmenter: false, ddpm: false };
    const m = (await res.json()) as { segmenter?: boolean; ddpm?: boolean };
    return { segmenter: m.segmenter === true, ddpm: m.ddpm === true };
  } catch {
    return { segmenter: false, ddpm: false };
  }
}
