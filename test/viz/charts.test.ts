import { describe, expect, it } from 'vitest';
import { ValueError, lineChartSvg, scatterChartSvg } from '../../src/index.js';

/** The numeric attribute `name` of every element `tag` in an SVG string. */
function attrs(svg: string, tag: string, name: string): number[] {
  const re = new RegExp(`<${tag}\\b[^>]*\\b${name}="([-0-9.e]+)"`, 'g');
  return [...svg.matchAll(re)].map((m) => Number(m[1]));
}

describe('scatterChartSvg', () => {
  const series = [
    { name: 'zero', x: [0, 1, 2], y: [0, 1, 4] },
    { name: 'one & two', x: [-1, NaN, 3], y: [2, 5, -2] },
  ];

  it('draws one circle per finite point, maps the extremes to the plot edges, and lists every series in the legend', () => {
    const svg = scatterChartSvg(series, { title: 'latent', xLabel: 'z1', yLabel: 'z2', width: 600, height: 400 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    // 5 finite points + 2 legend dots; the NaN point is skipped.
    const cx = attrs(svg, 'circle', 'cx');
    const cy = attrs(svg, 'circle', 'cy');
    expect(cx).toHaveLength(7);
    const dots = cx.map((x, i) => [x, cy[i]]).filter((_, i) => i !== 3 && i !== 6);
    // Plot area: left margin 64, right edge at width − 16 − legend width, top 36 (title), bottom 400 − 48.
    const xs = dots.map((d) => d[0]);
    const ys = dots.map((d) => d[1]);
    expect(Math.min(...xs)).toBeCloseTo(64, 1);
    expect(Math.min(...ys)).toBeCloseTo(36, 1);
    expect(Math.max(...ys)).toBeCloseTo(352, 1);
    // The legend sits right of the plot, so no dot is drawn under it.
    const legendX = Math.min(cx[3], cx[6]);
    expect(Math.max(...xs)).toBeLessThan(legendX);
    expect(svg).toContain('>zero</text>');
    expect(svg).toContain('>one &amp; two</text>');
    expect(svg).toContain('>latent</text>');
  });

  it('gives series distinct default colours and honours explicit ones', () => {
    const many = Array.from({ length: 10 }, (_, k) => ({ name: String(k), x: [k], y: [k] }));
    const svg = scatterChartSvg(many);
    const fills = [...svg.matchAll(/<g fill="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(fills).size).toBe(10);
    expect(scatterChartSvg([{ name: 'a', x: [0, 1], y: [0, 1], color: '#123456' }])).toContain('<g fill="#123456"');
  });

  it('drops points outside fixed ranges', () => {
    const svg = scatterChartSvg([{ name: 'a', x: [0, 5, 10], y: [0, 5, 10] }], { xRange: [0, 6], yRange: [0, 6] });
    expect(attrs(svg, 'circle', 'cx')).toHaveLength(2 + 1);
  });

  it('rejects bad input with a ValueError', () => {
    expect(() => scatterChartSvg([])).toThrow(ValueError);
    expect(() => scatterChartSvg([{ name: 'a', x: [1, 2], y: [1] }])).toThrow(/2 x values and 1 y values/);
    expect(() => scatterChartSvg([{ name: 'a', x: [NaN], y: [1] }])).toThrow(/no finite points/);
    expect(() => scatterChartSvg([{ name: 'a', x: [1], y: [1] }], { radius: 0 })).toThrow(ValueError);
    expect(() => scatterChartSvg([{ name: 'a', x: [1], y: [1] }], { opacity: 2 })).toThrow(ValueError);
  });
});

describe('lineChartSvg (sharing the chart frame with scatterChartSvg)', () => {
  it('maps the data range onto the plot area and draws the ROC diagonal corner to corner', () => {
    const svg = lineChartSvg([{ name: 'roc', x: [0, 0.5, 1], y: [0, 0.8, 1] }], { diagonal: true, width: 400, height: 400 });
    // Plot area without a title: x 64…384, y 16…352.
    expect(svg).toContain('<path d="M64.0,352.0 L224.0,83.2 L384.0,16.0"');
    expect(svg).toContain('<line x1="64" y1="352" x2="384" y2="16" stroke="#999" stroke-dasharray="4 4"/>');
    expect(svg).toContain('>roc</text>');
  });

  it('labels a log axis in powers of ten', () => {
    const svg = lineChartSvg([{ name: 'loss', x: [1, 2, 3], y: [100, 10, 1] }], { logY: true });
    expect(svg).toContain('>1e0</text>');
    expect(svg).toContain('>1e2</text>');
  });
});
