/** The PS3.15 profile and the options a site selects (the config's `profile` section). */
export interface ProfileOptions {
  readonly cleanDescriptors: boolean;
  /** 'off' removes dates as the Basic Profile does; 'full' keeps them; 'modified' shifts them per patient. */
  readonly retainLongitudinal: 'off' | 'full' | 'modified';
  readonly retainPatientCharacteristics: boolean;
  readonly retainDeviceIdentity: boolean;
  readonly retainUids: boolean;
  readonly retainInstitutionIdentity: boolean;
  readonly cleanGraphics: boolean;
  readonly cleanStructuredContent: boolean;
  /** Retain Safe Private Option: keep the private attributes of PS3.15 Table E.3.10-1 (and the site's privateKeep). */
  readonly retainSafePrivate: boolean;
}

export const DEFAULT_PROFILE: ProfileOptions = Object.freeze({
  cleanDescriptors: true,
  retainLongitudinal: 'modified',
  retainPatientCharacteristics: false,
  retainDeviceIdentity: false,
  retainUids: false,
  retainInstitutionIdentity: false,
  cleanGraphics: false,
  cleanStructuredContent: false,
  retainSafePrivate: false,
});

export interface MethodCode {
  readonly value: string;
  readonly meaning: string;
}

/** CID 7050 codes for (0012,0064), in the order they are written. */
export function methodCodes(options: ProfileOptions): MethodCode[] {
  const codes: MethodCode[] = [{ value: '113100', meaning: 'Basic Application Confidentiality Profile' }];
  if (options.cleanGraphics) codes.push({ value: '113103', meaning: 'Clean Graphics Option' });
  if (options.cleanStructuredContent) codes.push({ value: '113104', meaning: 'Clean Structured Content Option' });
  if (options.cleanDescriptors) codes.push({ value: '113105', meaning: 'Clean Descriptors Option' });
  if (options.retainLongitudinal === 'full') {
    codes.push({ value: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' });
  }
  if (options.retainLongitudinal === 'modified') {
    codes.push({ value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' });
  }
  if (options.retainPatientCharacteristics) codes.push({ value: '113108', meaning: 'Retain Patient Characteristics Option' });
  if (options.retainDeviceIdentity) codes.push({ value: '113109', meaning: 'Retain Device Identity Option' });
  if (options.retainUids) codes.push({ value: '113110', meaning: 'Retain UIDs Option' });
  if (options.retainSafePrivate) codes.push({ value: '113111', meaning: 'Retain Safe Private Option' });
  if (options.retainInstitutionIdentity) codes.push({ value: '113112', meaning: 'Retain Institution Identity Option' });
  return codes;
}
