import uPlot from 'uplot';
import { h } from './dom.js';

export interface SeriesSpec { label: string; color: string; dash?: number[]; bars?: -1 | 0 | 1 }

/** The page's colours come from CSS custom properties, so charts follow the light/dark theme. */
function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Axis steps for counts: no "0.5 messages" ticks. */
const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];

/** A canvas cannot resolve var(--x): colours given as var(--x) are read from the stylesheet. */
function resolveColor(color: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(color);
  return m ? cssVar(m[1] as string, '#0b5cad') : color;
}

/**
 * A uPlot chart that fills its container's width and follows it when the window is resized (a
 * phone turned sideways). uPlot draws on a canvas: ~22 KB gzipped, no inline styles in markup.
 */
export class Chart {
  readonly el: HTMLDivElement;
  private plot: uPlot | undefined;
  private readonly resize: ResizeObserver;
  private data: uPlot.AlignedData;

  constructor(private readonly opts: { series: SeriesSpec[]; height: number; label: string; valueFormat?: (v: number) => string; days?: boolean; integer?: boolean }) {
    // role=img with a label: the numbers beside the chart (and the usage table) are what a screen reader reads.
    this.el = h('div', { class: 'chart', role: 'img', 'aria-label': opts.label });
    this.data = [[], ...opts.series.map(() => [])];
    this.resize = new ResizeObserver(() => this.fit());
  }

  /** Call once the element is in the document (uPlot measures it). */
  mount(): void {
    const width = Math.max(200, this.el.clientWidth);
    const fg = cssVar('--muted', '#555');
    const grid = cssVar('--grid', 'rgba(0,0,0,0.08)');
    const fmt = this.opts.valueFormat ?? ((v: number): string => String(v));
    const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    this.plot = new uPlot({
      width,
      height: this.opts.height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      // Bars are drawn around their day: half a day of room at both ends keeps the first and last whole.
      scales: { x: { time: true, ...(this.opts.days ? { range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [min - 42_000, max + 42_000] } : {}) }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        { ...axis, ...(this.opts.days ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })) } : {}) },
        { ...axis, size: 56, values: (_u: uPlot, ticks: number[]) => ticks.map(fmt), ...(this.opts.integer ? { incrs: INTEGER_STEPS } : {}) },
      ],
      series: [
        {},
        ...this.opts.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: resolveColor(s.color),
          width: 2,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.bars !== undefined ? { fill: resolveColor(s.color), paths: uPlot.paths.bars?.({ size: [0.4, 24], align: s.bars }) } : {}),
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : fmt(v)),
        })),
      ],
    }, this.data, this.el);
    this.resize.observe(this.el);
  }

  /** x in seconds since the epoch, one array per series. */
  setData(x: number[], ys: number[][]): void {
    this.data = [x, ...ys];
    this.plot?.setData(this.data);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private fit(): void {
    const width = this.el.clientWidth;
    if (this.plot && width > 0 && Math.abs(width - this.plot.width) > 2) this.plot.setSize({ width, height: this.opts.height });
  }
}

/**
 * Points of a live series over a sliding window (the overview's 15 minutes, a device's 10).
 * Plain arrays: at one point every 2 s there are at most 450.
 */
export class RollingSeries {
  readonly x: number[] = [];
  readonly ys: number[][];

  constructor(private readonly windowSeconds: number, count: number) {
    this.ys = Array.from({ length: count }, () => []);
  }

  push(atMs: number, values: number[]): void {
    const t = atMs / 1000;
    const last = this.x[this.x.length - 1];
    if (last !== undefined && t <= last) return;
    this.x.push(t);
    values.forEach((v, i) => this.ys[i]?.push(v));
    const cutoff = t - this.windowSeconds;
    let drop = 0;
    while (drop < this.x.length && (this.x[drop] as number) < cutoff) drop += 1;
    if (drop > 0) { this.x.splice(0, drop); for (const y of this.ys) y.splice(0, drop); }
  }
}
