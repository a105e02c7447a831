import { invalidField } from '../errors.js';

/** Integer query parameter within bounds, with a default when absent. */
export function intParam(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalidField(field, 'must be an integer');
  const n = Number(value);
  if (n < min || n > max) throw invalidField(field, max === Number.MAX_SAFE_INTEGER ? `must be >= ${min}` : `must be ${min}..${max}`);
  return n;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidField(field, 'must be given once');
  return value;
}

/** A calendar date YYYY-MM-DD that exists. */
export function dateParam(value: unknown, field: string): string | undefined {
  const s = optionalString(value, field);
  if (s === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`)) || new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s) {
    throw invalidField(field, 'must be a date YYYY-MM-DD');
  }
  return s;
}
