import { binaryValueSize } from '../dicom/vr';
import { encodeAscii } from '../dicom/values';

/**
 * Dummy values for D. Printable ASCII without backslash or tilde: valid, and byte-identical, in every
 * character set DICOM allows (ISO 2022 sets start each value in the default G0 repertoire), so a
 * replacement never forces the file to change its Specific Character Set.
 */
const TEXT_DUMMY: Record<string, string> = {
  AE: 'ANONYMOUS', AS: '000Y', CS: 'ANONYMIZED', DA: '19000101', DS: '0', DT: '19000101000000',
  IS: '0', LO: 'ANONYMIZED', LT: 'ANONYMIZED', PN: 'ANONYMIZED', SH: 'ANONYMIZED', ST: 'ANONYMIZED',
  TM: '000000', UC: 'ANONYMIZED', UR: 'urn:anonymized', UT: 'ANONYMIZED',
};

export const DUMMY_TEXTS: ReadonlySet<string> = new Set(Object.values(TEXT_DUMMY));

/** The dummy value bytes for a VR (little or big endian zero is the same bytes). */
export function dummyValue(vr: string): Buffer {
  const text = TEXT_DUMMY[vr];
  if (text !== undefined) return encodeAscii(text, vr);
  const size = binaryValueSize(vr);
  return Buffer.alloc(size ?? 0);
}
