/**
 * Original SOP Instance UIDs claimed in one anonymizer run (on the main thread, for every worker).
 * Two files under one UID with identical bytes are one instance received twice: the second is a
 * duplicate. With different bytes (one image filed under two patients at the source) neither may be
 * delivered: there is no telling which is right, and both would leave under one pseudonymized UID.
 * Every copy is quarantined, including the first one, which may already have been anonymized by the
 * time the second arrives (files are anonymized while a pull is still receiving): its output is then
 * withdrawn.
 */
import { sameContent } from '../util/same-content';
import type { Claim, ClaimResult, FileOutcome } from './anonymize-file';

export const CONFLICTING_SOP_REASON = 'conflicting SOP Instance UID';

type Anonymized = Extract<FileOutcome, { kind: 'anonymized' }>;

interface Entry {
  readonly first: string;
  conflicted: boolean;
  /** The first file's outcome once known, if it was anonymized. */
  anonymized?: Anonymized;
  /** The first file's outcome is known. */
  settled: boolean;
}

export class SopClaims {
  private readonly byUid = new Map<string, Entry>();
  /** First files whose outcome is not known yet, by input path. */
  private readonly pending = new Map<string, Entry>();
  private withdrawals: Anonymized[] = [];

  claim({ sopInstanceUid, input }: Claim): ClaimResult {
    const entry = this.byUid.get(sopInstanceUid);
    if (entry === undefined) {
      const created: Entry = { first: input, conflicted: false, settled: false };
      this.byUid.set(sopInstanceUid, created);
      this.pending.set(input, created);
      return 'first';
    }
    if (sameContent(entry.first, input)) return 'same';
    if (!entry.conflicted) {
      entry.conflicted = true;
      if (entry.anonymized) this.withdrawals.push(entry.anonymized);
    }
    return 'conflict';
  }

  /** Every outcome passes here: the first file of a UID found conflicting is to be withdrawn (see takeWithdrawals). */
  observe(outcome: FileOutcome): void {
    const entry = this.pending.get(outcome.input);
    if (!entry) return;
    this.pending.delete(outcome.input);
    entry.settled = true;
    if (outcome.kind !== 'anonymized') return;
    if (entry.conflicted) this.withdrawals.push(outcome);
    else entry.anonymized = outcome;
  }

  /** Anonymized first files whose UID turned out to be conflicting, since the last call: their outputs must go, their inputs to quarantine. */
  takeWithdrawals(): Anonymized[] {
    const out = this.withdrawals;
    this.withdrawals = [];
    return out;
  }
}
