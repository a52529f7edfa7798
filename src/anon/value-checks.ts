import { binaryValueSize } from '../dicom/vr';

/**
 * What a kept value may look like. A value that does not fit its VR is not kept: text hidden in a
 * number, a time, a UID or a code is how PHI slips past rules that reason about attributes.
 */
const PATTERNS: Record<string, RegExp> = {
  AS: /^(\d{3}[DWMY])?$/,
  CS: /^[A-Z0-9 _\\]*$/,
  DA: /^[0-9.\- \\]*$/,
  DS: /^[0-9+\-.eE \\]*$/,
  DT: /^[0-9.+\- &\\]*$/,
  IS: /^[0-9+\- \\]*$/,
  TM: /^[0-9.: \\]*$/,
  UI: /^[0-9.\\]*$/,
};

/** Short technical strings kept by name (kernels, coils, software versions): no person-name punctuation. */
const TECHNICAL_TEXT = /^[A-Za-z0-9 _.\-*+/()[\]\\,:#%]*$/;
/** Other-word VRs: whole numbers of words. */
const WORD_SIZE: Record<string, number> = { OD: 8, OF: 4, OL: 4, OV: 8, OW: 2 };

function text(value: Buffer): string {
  return value.toString('latin1').replace(/[\0 ]+$/, '');
}

/** Whether a kept value is well-formed for its VR; text VRs pass (they are searched by the verifier). */
export function fitsVr(vr: string, value: Buffer | undefined): boolean {
  if (!value || value.length === 0) return true;
  const pattern = PATTERNS[vr];
  if (pattern) return pattern.test(text(value));
  const size = binaryValueSize(vr) ?? WORD_SIZE[vr];
  if (size) return value.length % size === 0;
  return true;
}

export function isTechnicalText(value: Buffer | undefined): boolean {
  return !value || TECHNICAL_TEXT.test(text(value));
}
