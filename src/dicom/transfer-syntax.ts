export interface TransferSyntax {
  readonly uid: string;
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  readonly deflated: boolean;
  readonly encapsulated: boolean;
}

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';

const NATIVE: Record<string, TransferSyntax> = {
  [IMPLICIT_LE]: { uid: IMPLICIT_LE, explicitVr: false, littleEndian: true, deflated: false, encapsulated: false },
  [EXPLICIT_LE]: { uid: EXPLICIT_LE, explicitVr: true, littleEndian: true, deflated: false, encapsulated: false },
  [DEFLATED_LE]: { uid: DEFLATED_LE, explicitVr: true, littleEndian: true, deflated: true, encapsulated: false },
  [EXPLICIT_BE]: { uid: EXPLICIT_BE, explicitVr: true, littleEndian: false, deflated: false, encapsulated: false },
};

/** Any other syntax under 1.2.840.10008.1.2.4/.5 (JPEG family, JPEG-LS, J2K, RLE, MPEG, HTJ2K) is encapsulated explicit LE. */
export function transferSyntax(uid: string): TransferSyntax | undefined {
  const native = NATIVE[uid];
  if (native) return native;
  if (/^1\.2\.840\.10008\.1\.2\.(4|5)(\.\d+)*$/.test(uid)) {
    return { uid, explicitVr: true, littleEndian: true, deflated: false, encapsulated: true };
  }
  return undefined;
}

export const TRANSFER_SYNTAX_NAMES: Record<string, string> = {
  [IMPLICIT_LE]: 'Implicit VR Little Endian',
  [EXPLICIT_LE]: 'Explicit VR Little Endian',
  [DEFLATED_LE]: 'Deflated Explicit VR Little Endian',
  [EXPLICIT_BE]: 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};
