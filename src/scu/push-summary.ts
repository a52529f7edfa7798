/**
 * What a push tells its operator: the summary lines (stored / confirmed / unconfirmed / failed) and
 * the exit code they add up to. Shared by `push` and the run's push step.
 */
import { PipelineError } from '../errors';
import type { ConfirmedBy } from './confirm';
import { formatPeer, type Peer } from './peer';
import type { PushReport } from './push';

export interface PushTotals {
  readonly files: number;
  readonly stored: number;
  readonly warnings: number;
  readonly converted: number;
  readonly confirmedBy: Readonly<Partial<Record<ConfirmedBy, number>>>;
  /** why → count, and whether those count as delivered. */
  readonly unconfirmed: ReadonlyMap<string, { count: number; delivered: boolean }>;
  readonly failed: number;
  readonly delivered: number;
}

export function totalsOf(reports: readonly PushReport[]): PushTotals {
  const confirmedBy: Partial<Record<ConfirmedBy, number>> = {};
  const unconfirmed = new Map<string, { count: number; delivered: boolean }>();
  for (const r of reports) {
    for (const [by, n] of Object.entries(r.confirmedBy) as [ConfirmedBy, number][]) confirmedBy[by] = (confirmedBy[by] ?? 0) + n;
    for (const u of r.unconfirmed) {
      const entry = unconfirmed.get(u.reason) ?? { count: 0, delivered: u.delivered };
      entry.count++;
      unconfirmed.set(u.reason, entry);
    }
  }
  const sum = (f: (r: PushReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
  return {
    files: sum((r) => r.files),
    stored: sum((r) => r.stored),
    warnings: sum((r) => r.warnings),
    converted: sum((r) => r.converted),
    confirmedBy,
    unconfirmed,
    failed: sum((r) => r.failed.length),
    delivered: sum((r) => r.delivered),
  };
}

/** `stored: N`, `confirmed: N (storage commitment)`, `unconfirmed: N (why)`, `failed: N`. */
export function summaryLines(t: PushTotals): string[] {
  const notes = [
    ...(t.warnings ? [`${t.warnings} with warnings`] : []),
    ...(t.converted ? [`${t.converted} converted losslessly to a transfer syntax the archive accepts`] : []),
  ];
  const lines = [`stored: ${t.stored}${notes.length ? ` (${notes.join('; ')})` : ''}`];
  const byKind = Object.entries(t.confirmedBy) as [ConfirmedBy, number][];
  if (byKind.length === 0) lines.push('confirmed: 0');
  for (const [by, n] of byKind) lines.push(`confirmed: ${n} (${by})`);
  for (const [why, { count, delivered }] of t.unconfirmed) lines.push(`unconfirmed: ${count} (${why})${delivered ? '' : ' [not delivered]'}`);
  lines.push(`failed: ${t.failed}`);
  return lines;
}

/**
 * 0: every file delivered; 3: some not; nothing stored at all (every store refused) is the step's
 * failure, thrown as an error naming the peer and the first cause.
 */
export function pushExitCode(t: PushTotals, peer: Peer | string, firstFailure?: string): 0 | 3 {
  if (t.files > 0 && t.stored === 0) {
    // A DICOMweb archive is named by its URL; the hint about contexts and AE titles is DIMSE's.
    const hint = typeof peer === 'string' ? '' : '; check that it accepts these SOP classes and transfer syntaxes from our AE title';
    throw new PipelineError(typeof peer === 'string' ? 'E_NETWORK' : 'E_DIMSE', `${typeof peer === 'string' ? peer : formatPeer(peer)} stored none of ${t.files} files${firstFailure ? `: ${firstFailure}` : ''}${hint}`);
  }
  return t.delivered === t.files ? 0 : 3;
}
