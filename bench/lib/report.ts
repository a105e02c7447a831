import type { Label } from './rig.js';

/**
 * The results table: one row per figure, mosquitto and ways-edge side by side with the ratio
 * gateway/mosquitto and the target; where the run measured the bare aedes reference too, its figure
 * and the ratio gateway/aedes (what the gateway adds to aedes). Printed as a Markdown table (readable on a terminal too) and
 * written into docs/BENCHMARKS.md after a full run.
 */
export interface Row {
  scenario: string;
  metric: string;
  mosquitto?: number;
  gateway?: number;
  /** The bare aedes reference (bench/bare-aedes.ts), where measured. */
  aedes?: number;
  unit: string;
  /** Text shown in the target column (e.g. "≤ 1.5× mosquitto", "< 3 ms"). */
  target?: string;
  /** Whether the gateway met the target; undefined = no target or not measured. */
  met?: boolean;
  /** Show the ratios gateway/mosquitto and gateway/aedes (default: whenever both are there). */
  ratio?: boolean;
}

/** A row's broker columns. */
export type Columns = Pick<Row, 'mosquitto' | 'gateway' | 'aedes'>;

/** The columns of one figure, asked of every broker (undefined: that broker was not measured). */
export function columns(figure: (label: Label) => number | undefined): Columns {
  const m = figure('mosquitto');
  const g = figure('ways-edge');
  const a = figure('aedes');
  return { ...(m !== undefined ? { mosquitto: m } : {}), ...(g !== undefined ? { gateway: g } : {}), ...(a !== undefined ? { aedes: a } : {}) };
}

export class Report {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  /** Further Markdown sections (the profile summary), printed after the table. */
  readonly sections: string[] = [];

  add(row: Row): void { this.rows.push(row); }
  note(text: string): void { if (!this.notes.includes(text)) this.notes.push(text); }
  section(markdown: string): void { this.sections.push(markdown); }

  markdown(): string {
    const withAedes = this.rows.some((r) => r.aedes !== undefined);
    const head = ['scenario', 'metric', 'mosquitto', ...(withAedes ? ['bare aedes'] : []), 'ways-edge', 'gw / mosq', ...(withAedes ? ['gw / aedes'] : []), 'target', 'met'];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map((_h, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
    for (const r of this.rows) {
      const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
      const cells = [r.scenario, r.metric, fmtValue(r.mosquitto, r.unit), ...(withAedes ? [fmtValue(r.aedes, r.unit)] : []), fmtValue(r.gateway, r.unit),
        ratioText(r, r.mosquitto), ...(withAedes ? [ratioText(r, r.aedes)] : []), r.target ?? '', met];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    return lines.join('\n');
  }
}

/** The gateway's figure over a reference's, e.g. "2.41×"; empty when either is missing or the row has no ratio. */
function ratioText(r: Row, reference: number | undefined): string {
  if (r.ratio === false || reference === undefined || r.gateway === undefined || reference === 0) return '';
  if (!Number.isFinite(reference) || !Number.isFinite(r.gateway)) return '';
  return `${(r.gateway / reference).toFixed(2)}×`;
}

/** A number with a sensible precision and thousands separators; '—' when absent, 'n/a' when NaN. */
export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtValue(v: number | undefined, unit: string): string {
  if (v === undefined) return '—';
  const n = fmtNumber(v);
  return n === 'n/a' ? n : `${n} ${unit}`.trim();
}
