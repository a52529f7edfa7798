import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import { readLargePart10 } from '../dicom/large-file';
import { parsePart10, type ParsedFile } from '../dicom/parse';
import { textOf } from '../dicom/values';
import { DicomParseError, errorMessage } from '../errors';

/** Above this size a file is read with readLargePart10: Pixel Data stays on disk. */
export const WHOLE_READ_LIMIT = 4 << 20;

const TAG = {
  SpecificCharacterSet: 0x00080005,
  SOPInstanceUID: 0x00080018,
  Modality: 0x00080060,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  MediaStorageSOPInstanceUID: 0x00020003,
} as const;

/** What the tools need from one DICOM instance; text decoded with the file's Specific Character Set. */
export interface InstanceInfo {
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopInstanceUid: string;
  readonly modality: string;
  readonly studyDescription: string;
  readonly seriesDescription: string;
  readonly patientName: string;
  readonly patientId: string;
}

/** One file under a scanned directory: a DICOM instance, or something reported and skipped. */
export type ScannedFile =
  | { readonly kind: 'dicom'; readonly rel: string; readonly path: string; readonly info: InstanceInfo }
  | { readonly kind: 'other'; readonly rel: string; readonly path: string; readonly reason: string };

/**
 * Regular files under dir, relative paths, sorted. As elsewhere in the project (listInputFiles):
 * hidden files are skipped and symbolic links are neither followed nor listed.
 */
export function listFiles(dir: string): string[] {
  return fg.sync('**/*', { cwd: resolve(dir), onlyFiles: true, dot: false, followSymbolicLinks: false }).sort();
}

function parse(path: string): ParsedFile {
  if (statSync(path).size > WHOLE_READ_LIMIT) {
    try {
      return readLargePart10(path);
    } catch (err) {
      // A large dataset without the Part-10 header: only the whole-file parser accepts those.
      if (!(err instanceof DicomParseError) || !/no DICM prefix/.test(err.message)) throw err;
    }
  }
  return parsePart10(readFileSync(path));
}

/** Reads the identifying attributes of one file; throws on anything that is not a DICOM instance. */
export function readInstanceInfo(path: string): InstanceInfo {
  const { meta, dataset } = parse(path);
  const charset = textOf(dataset, TAG.SpecificCharacterSet);
  const text = (tag: number): string => textOf(dataset, tag, charset);
  const studyUid = text(TAG.StudyInstanceUID);
  if (!studyUid) throw new DicomParseError('no Study Instance UID (DICOMDIR or not an image instance)');
  return {
    studyUid,
    seriesUid: text(TAG.SeriesInstanceUID),
    sopInstanceUid: text(TAG.SOPInstanceUID) || textOf(meta, TAG.MediaStorageSOPInstanceUID),
    modality: text(TAG.Modality),
    studyDescription: text(TAG.StudyDescription),
    seriesDescription: text(TAG.SeriesDescription),
    patientName: text(TAG.PatientName),
    patientId: text(TAG.PatientID),
  };
}

/** Never throws for a bad file: parse and read errors become the reported reason. */
export function scanFile(root: string, rel: string): ScannedFile {
  const path = join(root, rel);
  try {
    return { kind: 'dicom', rel, path, info: readInstanceInfo(path) };
  } catch (err) {
    return { kind: 'other', rel, path, reason: reasonOf(err) };
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof DicomParseError) return err.message;
  const sys = err as NodeJS.ErrnoException;
  if (typeof sys.syscall === 'string' && typeof sys.code === 'string') return `unreadable (${sys.syscall}: ${sys.code})`;
  return `not parseable as DICOM (${errorMessage(err)})`;
}
