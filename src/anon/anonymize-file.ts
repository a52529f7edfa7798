import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findElement } from '../dicom/dataset';
import { parsePart10, type ParsedFile } from '../dicom/parse';
import { encodePart10 } from '../dicom/serialize';
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

/** Reads, screens, de-identifies, verifies and writes one file. Never modifies the input. */
export async function anonymizeFile(input: string, env: FileEnvironment): Promise<FileOutcome> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(input);
  } catch (err) {
    return { kind: 'failed', input, error: `cannot read ${relative(env, input)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    return await processBytes(input, bytes, env);
  } catch (err) {
    if (err instanceof PipelineError && err.code === 'E_IDENTITY') throw err; // the identity map is broken: stop everything
    if ((err as NodeJS.ErrnoException).code) {
      return { kind: 'failed', input, error: `${relative(env, input)}: ${(err as NodeJS.ErrnoException).code} ${(err as Error).message}` };
    }
    return quarantine(env, input, 'unreadable or not DICOM', err instanceof DicomParseError ? err.message : `internal error: ${(err as Error).message}`);
  }
}

async function processBytes(input: string, bytes: Buffer, env: FileEnvironment): Promise<FileOutcome> {
  let parsed: ParsedFile;
  try {
    parsed = parsePart10(bytes);
  } catch (err) {
    if (err instanceof DicomParseError) return quarantine(env, input, 'unreadable or not DICOM', err.message);
    throw err;
  }
  const verdict = quarantineVerdict(parsed.dataset, env.quarantine, env.options.cleanStructuredContent);
  if (verdict) return quarantine(env, input, verdict.reason, verdict.detail);

  const sopElement = findElement(parsed.dataset, TAGS.SOPInstanceUID);
  const originalSop = sopElement ? decodeText(sopElement) : '';
  if (!originalSop) return quarantine(env, input, 'SOP Instance UID missing');
  if (!decodeTextOf(parsed, TAGS.StudyInstanceUID) || !decodeTextOf(parsed, TAGS.SeriesInstanceUID)) {
    return quarantine(env, input, 'Study or Series Instance UID missing');
  }
  const claim = await env.claim(originalSop, createHash('sha256').update(bytes).digest('hex'));
  if (claim === 'same') return { kind: 'duplicate', input };
  if (claim === 'conflict') return quarantine(env, input, 'duplicate SOP Instance UID with different content');

  const result = env.identity.transaction(() => deidentify(parsed, env));
  const chunks = encodePart10(result.meta, result.dataset, parsed.transferSyntax);
  const out = Buffer.concat(chunks);

  // Verify the bytes we are about to write, re-read from scratch: they must parse and hold no token.
  const tokens = collectPhiTokens(parsed.dataset, env.rules, env.options, env.whiteList);
  let reread: ParsedFile;
  try {
    reread = parsePart10(out);
  } catch (err) {
    return quarantine(env, input, 'phi-verify: output does not parse', (err as Error).message);
  }
  const hit = findPhi(reread.dataset, tokens);
  if (hit) return quarantine(env, input, `phi-verify: ${hit.keyword}`);

  const output = join(env.outputDir, result.studyUid, result.seriesUid, `${result.sopInstanceUid}.dcm`);
  writeFileAtomic(output, [out]);
  return {
    kind: 'anonymized', input, output, studyUid: result.studyUid, seriesUid: result.seriesUid,
    sopInstanceUid: result.sopInstanceUid, patientId: result.patient.id, bytes: out.length,
  };
}

function decodeTextOf(parsed: ParsedFile, tag: number): string {
  const el = findElement(parsed.dataset, tag);
  return el ? decodeText(el) : '';
}
