/**
 * The results table: one row per figure, mosquitto and ways-edge side by side with the ratio
 * gateway/mosquitto and the target. Printed as a Markdown table (readable on a terminal too) and
 * written into docs/BENCHMARKS.md after a full run.
 */
export interface Row {
  scenario: string;
  metric: string;
  mosquitto?: number;
  gateway?: number;
  unit: string;
  /** Text shown in the target column (e.g. "≤ 1.5× mosquitto", "< 3 ms"). */
  target?: string;
  /** Whether the gateway met the target; undefined = no target or not measured. */
  met?: boolean;
  /** Show the ratio gateway/mosquitto (default: whenever both are there). */
  ratio?: boolean;
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
    const head = ['scenario', 'metric', 'mosquitto', 'ways-edge', 'gw / mosq', 'target', 'met'];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map((_h, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
    for (const r of this.rows) {
      const ratio = r.ratio !== false && r.mosquitto !== undefined && r.gateway !== undefined && r.mosquitto !== 0 && Number.isFinite(r.mosquitto) && Number.isFinite(r.gateway)
        ? `${(r.gateway / r.mosquitto).toFixed(2)}×` : '';
      const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
      lines.push(`| ${r.scenario} | ${r.metric} | ${fmtValue(r.mosquitto, r.unit)} | ${fmtValue(r.gateway, r.unit)} | ${ratio} | ${r.target ?? ''} | ${met} |`);
    }
    return lines.join('\n');
  }
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
