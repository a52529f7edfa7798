/** VRs whose explicit encoding uses 2 reserved bytes and a 4-byte length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
/** Text VRs whose values may use the Specific Character Set (others are default repertoire). */
export const CHARSET_VRS = new Set(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
const KNOWN_VRS = new Set([...LONG_VRS, ...TEXT_VRS, 'AT', 'FL', 'FD', 'SL', 'SS', 'UL', 'US']);
const MAX_LENGTH: Record<string, number> = {
  AE: 16, AS: 4, CS: 16, DA: 8, DS: 16, DT: 26, IS: 12, LO: 64, PN: 64, SH: 16, TM: 14, UI: 64,
};
const BINARY_SIZE: Record<string, number> = { AT: 4, FL: 4, FD: 8, SL: 4, SS: 2, UL: 4, US: 2, SV: 8, UV: 8 };

export function isLongVr(vr: string): boolean {
  return LONG_VRS.has(vr);
}

export function isKnownVr(vr: string): boolean {
  return KNOWN_VRS.has(vr);
}

export function isTextVr(vr: string): boolean {
  return TEXT_VRS.has(vr);
}

export function maxValueLength(vr: string): number | undefined {
  return MAX_LENGTH[vr];
}

export function binaryValueSize(vr: string): number | undefined {
  return BINARY_SIZE[vr];
}

/** UI and binary OB pad with NUL; text pads with space. */
export function paddingByte(vr: string): number {
  return vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
}
