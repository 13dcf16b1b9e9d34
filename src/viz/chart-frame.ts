// Internal: the SVG scaffolding shared by lineChartSvg and scatterChartSvg (background, title,
// grid lines with tick labels, plot frame, axis labels, legend rows). Not re-exported.

/** Default series colours (matplotlib's tab10, blue-red-green first), cycled by series index. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Escapes text for an SVG text node. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** About `n` "nice" tick values (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]`. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Size, ranges and labels of a chart's frame. Ranges are in plotted units (log10 of y for a log axis). */
export interface FrameSpec {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Plotted x range. */
  x: [number, number];
  /** Plotted y range. */
  y: [number, number];
  /** Chart title. */
  title?: string;
  /** x-axis label. */
  xLabel?: string;
  /** y-axis label. */
  yLabel?: string;
  /** Label y ticks as powers of ten (the y range is log10 values). */
  logY?: boolean;
  /** Pixels reserved right of the plot for the legend; 0 (default) puts the legend inside the plot's top-left corner. */
  legendWidth?: number;
}

/** An open chart: the SVG parts so far and the maps from plotted units to pixels. */
export interface Frame {
  /** SVG fragments; {@link closeFrame} joins them into a document. */
  parts: string[];
  /** x (plotted units) → pixel column. */
  sx: (x: number) => number;
  /** y (plotted units) → pixel row. */
  sy: (y: number) => number;
  /** The plot area's margins in pixels. */
  margin: { left: number; right: number; top: number; bottom: number };
  /** The spec it was opened with. */
  spec: FrameSpec;
}

/** Starts an SVG chart: white background, title, grid lines with tick labels and the plot's border. */
export function openFrame(spec: FrameSpec): Frame {
  const W = spec.width;
  const H = spec.height;
  const m = { left: 64, right: 16 + (spec.legendWidth ?? 0), top: spec.title ? 36 : 16, bottom: 48 };
  const [x0, x1] = spec.x;
  const [y0, y1] = spec.y;
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const sy = (y: number): number => H - m.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (spec.title) parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end">${spec.logY ? `1e${t}` : t}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`);
  return { parts, sx, sy, margin: m, spec };
}

/**
 * A legend row `k`: a colour mark drawn by `mark(x, y)` and the escaped name, inside the plot's
 * top-left corner, or in the right margin when the frame reserved `legendWidth`.
 */
export function legendRow(frame: Frame, k: number, name: string, mark: (x: number, y: number) => string): void {
  const { left, top } = frame.margin;
  const x = frame.spec.legendWidth ? frame.spec.width - frame.spec.legendWidth : left + 10;
  frame.parts.push(mark(x, top + 8 + k * 18));
  frame.parts.push(`<text x="${x + 18}" y="${top + 13 + k * 18}">${escapeXml(name)}</text>`);
}

/** Adds the axis labels and closes the document. */
export function closeFrame(frame: Frame): string {
  const { spec, margin: m, parts } = frame;
  const W = spec.width;
  const H = spec.height;
  if (spec.xLabel) parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) parts.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Min and max of a list of numbers (for ranges from data). */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
