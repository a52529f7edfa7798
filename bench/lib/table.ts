/** Plain-text tables for benchmark output: fixed-width columns, numbers right-aligned, no colours. */

export type Cell = string | number | undefined;

export interface Column {
  readonly header: string;
  /** Digits after the decimal point for numbers (default 0). */
  readonly decimals?: number;
  /** Default: right for numbers, left for text. */
  readonly align?: 'left' | 'right';
}

export function formatCell(value: Cell, decimals = 0): string {
  if (value === undefined) return '-';
  if (typeof value === 'number') return Number.isFinite(value) ? value.toFixed(decimals) : '-';
  return value;
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => columns.map((c, i) => formatCell(row[i], c.decimals)));
  const numeric = columns.map((c, i) => c.align ? c.align === 'right' : rows.length > 0 && rows.every((r) => typeof r[i] !== 'string'));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...text.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}
