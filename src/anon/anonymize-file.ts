import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findElement, type Element } from '../dicom/dataset';
import { isFileRange, type Chunk } from '../dicom/file-range';
import { readLargePart10 } from '../dicom/large-file';
import { parseDataset, parseMetaGroup, parsePart10, type ParsedFile } from '../dicom/parse';
import { encodePart10Chunks } from '../dicom/serialize';
import type { TransferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';
import { DicomParseError, PipelineError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { deidentify, TAGS, type DeidentifyContext } from './deidentify';
import { quarantineVerdict, type QuarantineRules } from './quarantine-rules';
import { collectPhiTokens, findPhi } from './verify';

export interface FileEnvironment extends DeidentifyContext {
  readonly inputRoot: string;
  readonly outputDir: string;
  readonly quarantineDir: string;
  readonly quarantine: QuarantineRules;
  /**
   * Claims an original SOP Instance UID for this run: 'first' for the first file, 'same' for an
   * identical copy seen before, 'conflict' for different content under a UID already seen.
   */
  readonly claim: (sopInstanceUid: string, contentHash: string) => Promise<'first' | 'same' | 'conflict'>;
}

export type FileOutcome =
  | { readonly kind: 'anonymized'; readonly input: string; readonly output: string; readonly studyUid: string; readonly seriesUid: string; readonly sopInstanceUid: string; readonly patientId: string; readonly bytes: number }
  | { readonly kind: 'quarantined'; readonly input: string; readonly copy: string; readonly reason: string; readonly detail?: string }
  | { readonly kind: 'duplicate'; readonly input: string }
  | { readonly kind: 'failed'; readonly input: string; readonly error: string };

/** Input path relative to the input root: what reports may show (it is the file's own path). */
function relative(env: FileEnvironment, input: string): string {
  return input.startsWith(env.inputRoot + '/') ? input.slice(env.inputRoot.length + 1) : input;
}

function quarantine(env: FileEnvironment, input: string, reason: string, detail?: string): FileOutcome {
  const copy = join(env.quarantineDir, relative(env, input));
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(input, copy);
  return { kind: 'quarantined', input, copy, reason, detail };
}

/** Files above this size keep their Pixel Data on disk: memory stays bounded whatever the file. */
export const LARGE_FILE_BYTES = Number(process.env.DICOM_PIPELINE_LARGE_FILE_BYTES) || 64 << 20;

/** Retained UIDs name output files: only well-formed ones may. */
function isValidUid(uid: string): boolean {
  return uid.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(uid);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

interface Loaded {
  readonly parsed: ParsedFile;
  readonly contentHash: string;
}

function load(input: string): Loaded {
  if (statSync(input).size > LARGE_FILE_BYTES) {
    return { parsed: readLargePart10(input), contentHash: hashFile(input) };
  }
  const bytes = readFileSync(input);
  return { parsed: parsePart10(bytes), contentHash: createHash('sha256').update(bytes).digest('hex') };
}

function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0, n = 0; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Reads, screens, de-identifies, verifies and writes one file. Never modifies the input. */
export async function anonymizeFile(input: string, env: FileEnvironment): Promise<FileOutcome> {
  try {
    let loaded: Loaded;
    try {
      loaded = load(input);
    } catch (err) {
      if (err instanceof DicomParseError) return quarantine(env, input, 'unreadable or not DICOM', err.message);
      throw err;
    }
    return await processFile(input, loaded, env);
  } catch (err) {
    if (err instanceof PipelineError && err.code === 'E_IDENTITY') throw err; // the identity map is broken: stop everything
    if (isSystemError(err)) {
      return { kind: 'failed', input, error: `${relative(env, input)}: ${err.syscall} failed: ${err.code}` };
    }
    return quarantine(env, input, 'unreadable or not DICOM', err instanceof DicomParseError ? err.message : `internal error: ${(err as Error).message}`);
  }
}

async function processFile(input: string, { parsed, contentHash }: Loaded, env: FileEnvironment): Promise<FileOutcome> {
  const verdict = quarantineVerdict(parsed.dataset, env.quarantine, env.options.cleanStructuredContent);
  if (verdict) return quarantine(env, input, verdict.reason, verdict.detail);

  const sopElement = findElement(parsed.dataset, TAGS.SOPInstanceUID);
  const originalSop = sopElement ? decodeText(sopElement) : '';
  if (!originalSop) return quarantine(env, input, 'SOP Instance UID missing');
  if (!decodeTextOf(parsed, TAGS.StudyInstanceUID) || !decodeTextOf(parsed, TAGS.SeriesInstanceUID)) {
    return quarantine(env, input, 'Study or Series Instance UID missing');
  }
  const claim = await env.claim(originalSop, contentHash);
  if (claim === 'same') return { kind: 'duplicate', input };
  if (claim === 'conflict') return quarantine(env, input, 'duplicate SOP Instance UID with different content');

  const result = env.identity.transaction(() => deidentify(parsed, env));
  const chunks = encodePart10Chunks(result.meta, result.dataset, parsed.transferSyntax);

  // Verify the bytes we are about to write, re-read from scratch: they must parse and hold no token.
  const tokens = collectPhiTokens(parsed.dataset, env.rules, env.options, env.whiteList);
  let reread: Element[];
  try {
    reread = rereadForVerification(chunks, parsed.transferSyntax);
  } catch (err) {
    return quarantine(env, input, 'phi-verify: output does not parse', (err as Error).message);
  }
  const hit = findPhi(reread, tokens);
  if (hit) return quarantine(env, input, `phi-verify: ${hit.keyword}`);
  if (![result.studyUid, result.seriesUid, result.sopInstanceUid].every(isValidUid)) {
    return quarantine(env, input, 'invalid UID', 'a retained UID is not a valid UID and cannot name a file');
  }

  const output = join(env.outputDir, result.studyUid, result.seriesUid, `${result.sopInstanceUid}.dcm`);
  writeFileAtomic(output, chunks);
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  return {
    kind: 'anonymized', input, output, studyUid: result.studyUid, seriesUid: result.seriesUid,
    sopInstanceUid: result.sopInstanceUid, patientId: result.patient.id, bytes,
  };
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

function decodeTextOf(parsed: ParsedFile, tag: number): string {
  const el = findElement(parsed.dataset, tag);
  return el ? decodeText(el) : '';
}
