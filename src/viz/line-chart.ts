import { ValueError } from '../core/errors.js';
import { PALETTE, closeFrame, extent, legendRow, openFrame } from './chart-frame.js';

/** One line of a {@link lineChartSvg}. */
export interface Series {
  /** Legend label. */
  name: string;
  /** x values (same length as `y`). */
  x: readonly number[];
  /** y values. */
  y: readonly number[];
  /** CSS colour. Default: from a fixed palette. */
  color?: string;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  /** Chart title. */
  title?: string;
  /** x-axis label. */
  xLabel?: string;
  /** y-axis label. */
  yLabel?: string;
  /** Width in pixels. Default 640. */
  width?: number;
  /** Height in pixels. Default 400. */
  height?: number;
  /** Logarithmic y axis (values ≤ 0 are dropped). Default false. */
  logY?: boolean;
  /** Fixed x range. */
  xRange?: [number, number];
  /** Fixed y range. */
  yRange?: [number, number];
  /** Draw the diagonal y = x (for ROC curves). Default false. */
  diagonal?: boolean;
}

/**
 * Renders line series as a standalone SVG document (loss curves, ROC curves), with axes, ticks,
 * labels and a legend. No dependencies: the string can be written to a `.svg` file or put in a page.
 */
export function lineChartSvg(series: readonly Series[], options: LineChartOptions = {}): string {
  if (series.length === 0) throw new ValueError('lineChartSvg needs at least one series.');
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new ValueError(`lineChartSvg: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values.`);
  }
  const fy = (v: number): number => (options.logY ? Math.log10(v) : v);
  const points = series.map((s) => s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)));
  const all = points.flat();
  if (all.length === 0) throw new ValueError('lineChartSvg: no finite points to draw.');
  const frame = openFrame({
    width: options.width ?? 640,
    height: options.height ?? 400,
    x: options.xRange ?? extent(all.map((p) => p[0])),
    y: options.yRange ? [fy(options.yRange[0]), fy(options.yRange[1])] : extent(all.map((p) => fy(p[1]))),
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    logY: options.logY,
  });
  const { sx, parts } = frame;
  const sy = (y: number): number => frame.sy(fy(y));
  const [x0, x1] = frame.spec.x;
  const [y0, y1] = frame.spec.y;
  if (options.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(options.logY ? 10 ** y0 : y0)}" x2="${sx(x1)}" y2="${sy(options.logY ? 10 ** y1 : y1)}" stroke="#999" stroke-dasharray="4 4"/>`);
  points.forEach((pts, k) => {
    const color = series[k].color ?? PALETTE[k % PALETTE.length];
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    legendRow(frame, k, series[k].name, (x, y) => `<rect x="${x}" y="${y}" width="12" height="3" fill="${color}"/>`);
  });
  return closeFrame(frame);
}
