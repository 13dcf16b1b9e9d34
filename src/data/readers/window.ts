import { ValueError } from '../../core/errors.js';

/** A display window: values in `center ± width/2` are spread over the output range. */
export interface WindowSetting {
  /** Window centre (level), in the data's units (Hounsfield units for CT). */
  center: number;
  /** Window width, ≥ 1. */
  width: number;
}

/** Names of {@link WINDOW_PRESETS}. */
export type WindowPresetName = 'brain' | 'subdural' | 'stroke' | 'bone' | 'temporalBone' | 'lung' | 'mediastinum' | 'abdomen' | 'liver';

/**
 * Common CT windows (centre/level and width, in HU).
 *
 * Source: Radiopaedia, "Windowing (CT)" (Murphy A, Baba Y et al., radiopaedia.org/articles/52108),
 * which lists typical values: brain W:80 L:40; subdural W:130–300 L:50–100 (we use W:215 L:75,
 * the middle of both ranges); stroke W:40 L:40 (or W:8 L:32); temporal bones W:2800 L:600;
 * spine/skeleton bone W:1800 L:400; lungs W:1500 L:−600; mediastinum W:350 L:50; abdominal soft
 * tissue W:400 L:50; liver W:150 L:30. Institutions vary; these are starting points.
 */
export const WINDOW_PRESETS: Readonly<Record<WindowPresetName, Readonly<WindowSetting>>> = {
  brain: { center: 40, width: 80 },
  subdural: { center: 75, width: 215 },
  stroke: { center: 40, width: 40 },
  bone: { center: 400, width: 1800 },
  temporalBone: { center: 600, width: 2800 },
  lung: { center: -600, width: 1500 },
  mediastinum: { center: 50, width: 350 },
  abdomen: { center: 50, width: 400 },
  liver: { center: 30, width: 150 },
};


/** Options of {@link applyWindow}. */
export interface ApplyWindowOptions {
  /** Output value for inputs at or below the window's bottom. Default 0. */
  outMin?: number;
  /** Output value for inputs above the window's top. Default 1. */
  outMax?: number;
}

/**
 * Maps values through a display window into `[outMin, outMax]` (default `[0, 1]`), with the
 * DICOM linear VOI LUT function (PS3.3 C.11.2.1.2.1):
 *
 * - x ≤ c − 0.5 − (w − 1)/2 → outMin
 * - x > c − 0.5 + (w − 1)/2 → outMax
 * - otherwise ((x − (c − 0.5)) / (w − 1) + 0.5) · (outMax − outMin) + outMin
 *
 * Call as `applyWindow(hu, 40, 80)` or `applyWindow(hu, WINDOW_PRESETS.brain)`. Returns a new
 * Float32Array.
 *
 * @throws ValueError when the width is below 1 or a setting is not finite.
 */
export function applyWindow(values: ArrayLike<number>, center: number | WindowSetting, width?: number | ApplyWindowOptions, options?: ApplyWindowOptions): Float32Array {
  let c: number;
  let w: number;
  let opts: ApplyWindowOptions;
  if (typeof center === 'object') {
    c = center.center;
    w = center.width;
    opts = (typeof width === 'object' ? width : options) ?? {};
  } else {
    c = center;
    w = typeof width === 'number' ? width : Number.NaN;
    opts = options ?? {};
  }
  if (!Number.isFinite(c) || !Number.isFinite(w) || w < 1) {
    throw new ValueError(`applyWindow: need a finite centre and a width ≥ 1 (DICOM requires it), got centre ${c}, width ${w}.`);
  }
  const lo = opts.outMin ?? 0;
  const hi = opts.outMax ?? 1;
  const bottom = c - 0.5 - (w - 1) / 2;
  const top = c - 0.5 + (w - 1) / 2;
  const out = new Float32Array(values.length);
  const range = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x <= bottom) out[i] = lo;
    else if (x > top) out[i] = hi;
    else out[i] = ((x - (c - 0.5)) / (w - 1) + 0.5) * range + lo;
  }
  return out;
}
