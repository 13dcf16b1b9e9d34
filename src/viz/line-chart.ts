import { ValueError } from '../core/errors.js';

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

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
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
  const W = options.width ?? 640;
  const H = options.height ?? 400;
  const m = { left: 64, right: 16, top: options.title ? 36 : 16, bottom: 48 };
  const fy = (v: number) => (options.logY ? Math.log10(v) : v);
  const points = series.map((s) => s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)));
  const all = points.flat();
  if (all.length === 0) throw new ValueError('lineChartSvg: no finite points to draw.');
  const [x0, x1] = options.xRange ?? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = options.yRange ? options.yRange.map(fy) : [Math.min(...all.map((p) => fy(p[1]))), Math.max(...all.map((p) => fy(p[1])))];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const sy = (y: number) => H - m.bottom - ((fy(y) - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`);
  for (const t of ticks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const y = H - m.bottom - ((t - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${options.logY ? `1e${t}` : t}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`);
  if (options.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(options.logY ? 10 ** y0 : y0)}" x2="${sx(x1)}" y2="${sy(options.logY ? 10 ** y1 : y1)}" stroke="#999" stroke-dasharray="4 4"/>`);
  points.forEach((pts, k) => {
    const color = series[k].color ?? PALETTE[k % PALETTE.length];
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${m.left + 10}" y="${m.top + 8 + k * 18}" width="12" height="3" fill="${color}"/>`);
    parts.push(`<text x="${m.left + 28}" y="${m.top + 13 + k * 18}">${esc(series[k].name)}</text>`);
  });
  if (options.xLabel) parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  if (options.yLabel) parts.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
