import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Element } from '../dicom/dataset';
import { isFileRange, type Chunk } from '../dicom/file-range';
import { readLargePart10 } from '../dicom/large-file';
import { parseDataset, parseMetaGroup, parsePart10, type ParsedFile } from '../dicom/parse';
import { encodePart10Chunks } from '../dicom/serialize';
import type { TransferSyntax } from '../dicom/transfer-syntax';
import { textOf } from '../dicom/values';
import { DicomParseError, PipelineError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { diskFullError, isDiskFull } from '../util/disk-full';
import { deidentify, TAGS, type DeidentifiedFile, type DeidentifyContext } from './deidentify';
import { quarantineVerdict, type QuarantineRules } from './quarantine-rules';
import type { IdentityStore } from './identity/store';
import { CONFLICTING_SOP_REASON } from './sop-claims';
import type { PhiIgnore } from './phi-tokens';
import { collectPhiTokens, findPhi } from './verify';

export type ClaimResult = 'first' | 'same' | 'conflict';

export interface Claim {
  readonly sopInstanceUid: string;
  readonly input: string;
}

export interface FileEnvironment extends Omit<DeidentifyContext, 'identity'> {
  /** Each batch's mappings are made through it, in one transaction. */
  readonly store: IdentityStore;
  readonly inputRoot: string;
  readonly outputDir: string;
  readonly quarantineDir: string;
  readonly quarantine: QuarantineRules;
  /** Where the identity map lives (named when it cannot grow). */
  readonly identityDb?: string;
  /** Values the verifier never counts as PHI (white list, our dummies): built once per thread. */
  readonly phiIgnore: PhiIgnore;
  /**
   * Claims original SOP Instance UIDs for this run, a batch at a time: 'first' for the first file,
   * 'same' for an identical copy of an earlier file, 'conflict' for different content under a UID
   * already seen.
   */
  readonly claim: (claims: readonly Claim[]) => Promise<ClaimResult[]>;
}

export type FileOutcome =
  | { readonly kind: 'anonymized'; readonly input: string; readonly output: string; readonly studyUid: string; readonly seriesUid: string; readonly sopInstanceUid: string; readonly patientId: string; readonly bytes: number; readonly patientNameDiffers: boolean; readonly privateKept: Readonly<Record<string, number>> }
  | {
      readonly kind: 'quarantined'; readonly input: string; readonly copy: string; readonly reason: string; readonly detail?: string;
      /** This file was reported anonymized before; that output is gone (its SOP Instance UID turned out to be conflicting). */
      readonly withdrawn?: Extract<FileOutcome, { kind: 'anonymized' }>;
    }
  | { readonly kind: 'duplicate'; readonly input: string }
  | { readonly kind: 'failed'; readonly input: string; readonly error: string };

/** Files above this size keep their Pixel Data on disk: memory stays bounded whatever the file. */
export const LARGE_FILE_BYTES = Number(process.env.DICOM_PIPELINE_LARGE_FILE_BYTES) || 64 << 20;

/** Input path relative to the input root: what reports may show (it is the file's own path). */
function relative(env: FileEnvironment, input: string): string {
  return input.startsWith(env.inputRoot + '/') ? input.slice(env.inputRoot.length + 1) : input;
}

function quarantine(env: FileEnvironment, input: string, reason: string, detail?: string): FileOutcome {
  return { kind: 'quarantined', input, copy: copyToQuarantine(env.inputRoot, env.quarantineDir, input), reason, detail };
}

/** Copies an input into the quarantine directory under its own relative path; returns the copy's path. */
export function copyToQuarantine(inputRoot: string, quarantineDir: string, input: string): string {
  const root = resolve(inputRoot);
  const copy = join(quarantineDir, input.startsWith(root + '/') ? input.slice(root.length + 1) : input);
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(input, copy);
  return copy;
}

/** Retained UIDs name output files: only well-formed ones may. */
function isValidUid(uid: string): boolean {
  return uid.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(uid);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** Turns an error met while handling one file into that file's outcome; a broken identity map stops everything. */
function outcomeOfError(env: FileEnvironment, input: string, err: unknown): FileOutcome {
  if (err instanceof PipelineError && err.code === 'E_IDENTITY') throw err;
  if (isDiskFull(err)) throw diskFullIn(env, err);
  if (isSystemError(err)) return { kind: 'failed', input, error: `${relative(env, input)}: ${err.syscall} failed: ${err.code}` };
  return quarantine(env, input, 'unreadable or not DICOM', err instanceof DicomParseError ? err.message : `internal error: ${(err as Error).message}`);
}

function load(input: string): ParsedFile {
  return statSync(input).size > LARGE_FILE_BYTES ? readLargePart10(input) : parsePart10(readFileSync(input));
}

interface Screened {
  readonly input: string;
  readonly parsed: ParsedFile;
  readonly sopInstanceUid: string;
}

/**
 * Quarantined by a screening rule, with its SOP Instance UID: still claimed, so that a different
 * file under the same UID is found conflicting and quarantined too (no copy of a conflicting pair
 * may be delivered because the other one happened to be quarantined for another reason first).
 */
interface Refused {
  readonly refused: FileOutcome;
  readonly input: string;
  readonly sopInstanceUid: string;
}

/** Reads and screens one file: either ready for de-identification, or already decided. */
function screen(input: string, env: FileEnvironment): Screened | Refused | FileOutcome {
  try {
    let parsed: ParsedFile;
    try {
      parsed = load(input);
    } catch (err) {
      if (err instanceof DicomParseError) return quarantine(env, input, 'unreadable or not DICOM', err.message);
      throw err;
    }
    const sopInstanceUid = textOf(parsed.dataset, TAGS.SOPInstanceUID);
    const verdict = quarantineVerdict(parsed.dataset, env.quarantine, env.options.cleanStructuredContent);
    if (verdict) {
      const refused = quarantine(env, input, verdict.reason, verdict.detail);
      return sopInstanceUid ? { refused, input, sopInstanceUid } : refused;
    }
    if (!sopInstanceUid) return quarantine(env, input, 'SOP Instance UID missing');
    if (!textOf(parsed.dataset, TAGS.StudyInstanceUID) || !textOf(parsed.dataset, TAGS.SeriesInstanceUID)) {
      return quarantine(env, input, 'Study or Series Instance UID missing');
    }
    return { input, parsed, sopInstanceUid };
  } catch (err) {
    return outcomeOfError(env, input, err);
  }
}

function isScreened(x: Screened | Refused | FileOutcome): x is Screened {
  return 'parsed' in x;
}

/** Encodes, verifies and writes one de-identified file. */
function finish(s: Screened, result: DeidentifiedFile, env: FileEnvironment): FileOutcome {
  try {
    const chunks = encodePart10Chunks(result.meta, result.dataset, s.parsed.transferSyntax);
    // Verify the bytes we are about to write, re-read from scratch: they must parse and hold no token.
    const tokens = collectPhiTokens(s.parsed.dataset, env.rules, env.options, env.whiteList, env.phiIgnore);
    let reread: Element[];
    try {
      reread = rereadForVerification(chunks, s.parsed.transferSyntax);
    } catch (err) {
      return quarantine(env, s.input, 'phi-verify: output does not parse', (err as Error).message);
    }
    const hit = findPhi(reread, tokens, env.rules.privateRules);
    if (hit) return quarantine(env, s.input, `phi-verify: ${hit.keyword}`);
    if (![result.studyUid, result.seriesUid, result.sopInstanceUid].every(isValidUid)) {
      return quarantine(env, s.input, 'invalid UID', 'a retained UID is not a valid UID and cannot name a file');
    }
    const output = join(env.outputDir, result.studyUid, result.seriesUid, `${result.sopInstanceUid}.dcm`);
    writeFileAtomic(output, chunks);
    return {
      kind: 'anonymized', input: s.input, output, studyUid: result.studyUid, seriesUid: result.seriesUid,
      sopInstanceUid: result.sopInstanceUid, patientId: result.patient.id, bytes: chunks.reduce((n, c) => n + c.length, 0),
      patientNameDiffers: result.patientNameDiffers, privateKept: result.privateKept,
    };
  } catch (err) {
    return outcomeOfError(env, s.input, err);
  }
}

/**
 * Reads, screens, de-identifies, verifies and writes a batch of files; never modifies an input.
 * The batch's identity mappings are made in one transaction, committed before any output is written:
 * one write lock per batch instead of per file, which is what lets several workers share identity.db.
 */
export async function anonymizeBatch(inputs: readonly string[], env: FileEnvironment): Promise<FileOutcome[]> {
  try {
    return await anonymizeBatchOrThrow(inputs, env);
  } catch (err) {
    throw isDiskFull(err) && !(err instanceof PipelineError) ? diskFullIn(env, err) : err;
  }
}

/**
 * A full disk stops the whole anonymizer (it is no fault of the file). The error names our
 * directory, not the file: paths under the quarantine and input are made of identified UIDs.
 */
function diskFullIn(env: FileEnvironment, err: unknown): PipelineError {
  const path = (err as NodeJS.ErrnoException).path ?? '';
  if ((err as { code?: string }).code === 'SQLITE_FULL') return diskFullError(env.identityDb ?? 'the identity database', err);
  return diskFullError(path.startsWith(env.quarantineDir) ? env.quarantineDir : env.outputDir, err);
}

async function anonymizeBatchOrThrow(inputs: readonly string[], env: FileEnvironment): Promise<FileOutcome[]> {
  const outcomes: Array<FileOutcome | undefined> = new Array(inputs.length);
  const screened: Array<{ index: number; file: Screened }> = [];
  const refused: Refused[] = [];
  inputs.forEach((input, index) => {
    const s = screen(input, env);
    if (isScreened(s)) screened.push({ index, file: s });
    else if ('refused' in s) {
      refused.push(s);
      outcomes[index] = s.refused;
    } else outcomes[index] = s;
  });
  const claimed = [...screened.map(({ file }) => file), ...refused];
  const claims = await env.claim(claimed.map(({ sopInstanceUid, input }) => ({ sopInstanceUid, input })));
  const accepted: Array<{ index: number; file: Screened }> = [];
  screened.forEach((entry, i) => {
    if (claims[i] === 'same') outcomes[entry.index] = { kind: 'duplicate', input: entry.file.input };
    else if (claims[i] === 'conflict') outcomes[entry.index] = quarantine(env, entry.file.input, CONFLICTING_SOP_REASON);
    else accepted.push(entry);
  });
  // The store may run this more than once (see IdentityStore.batch): errors are kept, not acted on, here.
  const results = await env.store.batch((identity) => {
    const ctx = { ...env, identity };
    return accepted.map(({ file }) => {
      try {
        return deidentify(file.parsed, ctx);
      } catch (err) {
        // A broken identity store or a full disk rolls the batch back and stops the run.
        if ((err instanceof PipelineError && err.code === 'E_IDENTITY') || isDiskFull(err)) throw err;
        return { error: err };
      }
    });
  });
  accepted.forEach(({ index, file }, i) => {
    const result = results[i];
    outcomes[index] = 'error' in result ? outcomeOfError(env, file.input, result.error) : finish(file, result, env);
  });
  return outcomes as FileOutcome[];
}

export async function anonymizeFile(input: string, env: FileEnvironment): Promise<FileOutcome> {
  return (await anonymizeBatch([input], env))[0];
}

/**
 * Parses what will be written. Bulk data left in the source file is not re-read (it is copied
 * unchanged and never searched); every element before and after it is.
 */
function rereadForVerification(chunks: readonly Chunk[], ts: TransferSyntax): Element[] {
  const firstRange = chunks.findIndex(isFileRange);
  if (firstRange < 0) return parsePart10(Buffer.concat(chunks as Buffer[])).dataset;
  const head = Buffer.concat(chunks.slice(0, firstRange - 1) as Buffer[]); // up to the Pixel Data header
  const { end } = parseMetaGroup(head);
  const before = parseDataset(head.subarray(end), ts);
  const tail = Buffer.concat(chunks.slice(firstRange + 1).filter((c): c is Buffer => !isFileRange(c)));
  return [...before, ...(tail.length ? parseDataset(tail, ts) : [])];
}
