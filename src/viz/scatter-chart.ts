import { ValueError } from '../core/errors.js';
import { PALETTE, closeFrame, escapeXml, extent, legendRow, openFrame } from './chart-frame.js';

/** One group of points of a {@link scatterChartSvg} (e.g. the latent codes of one digit). */
export interface ScatterSeries {
  /** Legend label. */
  name: string;
  /** x values (same length as `y`). */
  x: readonly number[];
  /** y values. */
  y: readonly number[];
  /** CSS colour. Default: from a fixed ten-colour palette (matplotlib's tab10), by series index. */
  color?: string;
}

/** Options of {@link scatterChartSvg}. */
export interface ScatterChartOptions {
  /** Chart title. */
  title?: string;
  /** x-axis label. */
  xLabel?: string;
  /** y-axis label. */
  yLabel?: string;
  /** Width in pixels, legend included. Default 640. */
  width?: number;
  /** Height in pixels. Default 480. */
  height?: number;
  /** Fixed x range (points outside are not drawn). Default: the data's range. */
  xRange?: [number, number];
  /** Fixed y range (points outside are not drawn). Default: the data's range. */
  yRange?: [number, number];
  /** Dot radius in pixels. Default 2. */
  radius?: number;
  /** Dot opacity in (0, 1]; below 1 dense regions show as darker. Default 0.6. */
  opacity?: number;
}

/**
 * Renders groups of points as a standalone SVG scatter plot with axes, ticks, labels and a legend
 * to the right of the plot, e.g. a 2-D VAE latent space coloured by class. Non-finite points are
 * skipped. No dependencies: write the string to a `.svg` file or put it in a page.
 *
 * Every point is one SVG element, so keep to a few thousand points per chart.
 *
 * @example
 * ```ts
 * const svg = scatterChartSvg(
 *   digits.map((d) => ({ name: String(d), x: zx[d], y: zy[d] })),
 *   { title: 'VAE latent space', xLabel: 'z₁', yLabel: 'z₂' },
 * );
 * ```
 */
export function scatterChartSvg(series: readonly ScatterSeries[], options: ScatterChartOptions = {}): string {
  if (series.length === 0) throw new ValueError('scatterChartSvg needs at least one series.');
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new ValueError(`scatterChartSvg: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values.`);
  }
  const radius = options.radius ?? 2;
  const opacity = options.opacity ?? 0.6;
  if (!(radius > 0 && Number.isFinite(radius))) throw new ValueError(`scatterChartSvg radius must be a finite number > 0, but got ${radius}.`);
  if (!(opacity > 0 && opacity <= 1)) throw new ValueError(`scatterChartSvg opacity must be in (0, 1], but got ${opacity}.`);
  const points = series.map((s) => s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const all = points.flat();
  if (all.length === 0) throw new ValueError('scatterChartSvg: no finite points to draw.');
  const width = options.width ?? 640;
  const legendWidth = Math.min(160, 40 + 7 * Math.max(...series.map((s) => s.name.length)));
  const frame = openFrame({
    width,
    height: options.height ?? 480,
    x: options.xRange ?? extent(all.map((p) => p[0])),
    y: options.yRange ?? extent(all.map((p) => p[1])),
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    legendWidth,
  });
  const [x0, x1] = frame.spec.x;
  const [y0, y1] = frame.spec.y;
  const inside = (x: number, y: number): boolean => x >= x0 && x <= x1 && y >= y0 && y <= y1;
  points.forEach((pts, k) => {
    const color = series[k].color ?? PALETTE[k % PALETTE.length];
    const dots = pts.filter(([x, y]) => inside(x, y)).map(([x, y]) => `<circle cx="${frame.sx(x).toFixed(1)}" cy="${frame.sy(y).toFixed(1)}" r="${radius}"/>`);
    frame.parts.push(`<g fill="${color}" fill-opacity="${opacity}"><title>${escapeXml(series[k].name)}</title>${dots.join('')}</g>`);
    legendRow(frame, k, series[k].name, (x, y) => `<circle cx="${x + 6}" cy="${y + 1}" r="5" fill="${color}"/>`);
  });
  return closeFrame(frame);
}
