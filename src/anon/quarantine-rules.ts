import { findElement, type Element } from '../dicom/dataset';
import { decodeTextValues, textOf } from '../dicom/values';

export interface QuarantineRules {
  /** Series Description containing "patient protocol". */
  readonly patientProtocol: boolean;
  /** "save" in Series Description or Image Type. */
  readonly screenCapture: boolean;
  /** Upper-case modality codes, or '*' for any (a missing modality is still quarantined). */
  readonly allowedModalities: readonly string[] | '*';
  readonly burnedInAnnotation: boolean;
  /** Lower-case substrings of Manufacturer or Manufacturer's Model Name. */
  readonly suspectEquipment: readonly string[];
  /** SOP classes that carry burned-in or free text; SOP class UIDs listed in allowSopClasses pass. */
  readonly riskySopClasses: boolean;
  readonly allowSopClasses: readonly string[];
}

export const DEFAULT_QUARANTINE_RULES: QuarantineRules = Object.freeze({
  patientProtocol: true,
  screenCapture: true,
  allowedModalities: Object.freeze(['MR', 'CT']),
  burnedInAnnotation: true,
  suspectEquipment: Object.freeze(['north american imaging, inc', 'pacsgear', 'the dicom box']),
  riskySopClasses: true,
  allowSopClasses: Object.freeze([]),
});

/**
 * Families of SOP classes whose pixels or content are text, screenshots, photos or documents: a
 * class matches its family root or anything under it (…1.1.6 is the retired ultrasound class,
 * …1.1.6.1 the current one; …1.1.3 and …1.1.3.1 the ultrasound multi-frame ones).
 */
const RISKY_SOP_CLASSES: ReadonlyArray<[root: string, what: string]> = [
  ['1.2.840.10008.5.1.4.1.1.7', 'secondary capture'],
  ['1.2.840.10008.5.1.4.1.1.104', 'encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.88', 'structured report'],
  ['1.2.840.10008.5.1.4.1.1.6', 'ultrasound'],
  ['1.2.840.10008.5.1.4.1.1.3', 'ultrasound multi-frame'],
  ['1.2.840.10008.5.1.4.1.1.77.1', 'visible light photograph or video'],
  ['1.2.840.10008.1.3.10', 'media directory (DICOMDIR)'],
];

/** Modality defined terms (PS3.3 C.7.3.1.1.1), the only values a quarantine reason may repeat. */
const MODALITIES = new Set(('AR ASMT AU BDUS BI BMD CR CT CTPROTOCOL DG DOC DX ECG EEG EMG EOG EPS ES FID GM HC HD IO IOL IVOCT IVUS ' +
  'KER KO LEN LS MG MR M3D NM OAM OCT OP OPM OPT OPTBSV OPTENF OPV OSS OT PLAN POS PR PT PX REG RESP RF RTDOSE RTIMAGE RTINTENT ' +
  'RTPLAN RTRAD RTRECORD RTSEGANN RTSTRUCT RWV SEG SM SMR SR SRF STAIN TEXTUREMAP TG US VA XA XAPROTOCOL XC').split(' '));

export interface QuarantineVerdict {
  readonly reason: string;
  /** Safe to print: codes and class names, never a value that could identify someone. */
  readonly detail?: string;
}

const TAG = {
  ImageType: 0x00080008, SOPClassUID: 0x00080016, Modality: 0x00080060, Manufacturer: 0x00080070,
  SeriesDescription: 0x0008103e, ManufacturerModelName: 0x00081090, BurnedInAnnotation: 0x00280301,
};

/** The first rule (in the documented order) that the file breaks, or undefined. */
export function quarantineVerdict(dataset: readonly Element[], rules: QuarantineRules, cleanStructuredContent: boolean): QuarantineVerdict | undefined {
  const charset = textOf(dataset, 0x00080005);
  const seriesDescription = textOf(dataset, TAG.SeriesDescription, charset).toLowerCase();
  if (rules.patientProtocol && seriesDescription.includes('patient protocol')) return { reason: 'patient protocol' };
  if (rules.screenCapture) {
    const imageType = textOf(dataset, TAG.ImageType).toLowerCase();
    if (seriesDescription.includes('save') || imageType.includes('save')) return { reason: 'likely screen capture' };
  }
  const modalityElement = findElement(dataset, TAG.Modality);
  const modality = modalityElement ? decodeTextValues(modalityElement)[0].toUpperCase() : '';
  if (!modality) return { reason: 'modality missing' };
  if (rules.allowedModalities !== '*' && !rules.allowedModalities.includes(modality)) {
    return { reason: 'modality not allowed', detail: MODALITIES.has(modality) ? modality : 'not a standard modality code' };
  }
  // Anything but a plain NO (YES, YES\NO, a typo) may mean text in the pixels.
  const burnedIn = findElement(dataset, TAG.BurnedInAnnotation);
  if (rules.burnedInAnnotation && burnedIn && decodeTextValues(burnedIn).some((v) => v.trim() !== '' && v.trim().toUpperCase() !== 'NO')) {
    return { reason: 'burned in annotation' };
  }
  if (hasEmbeddedOverlay(dataset)) return { reason: 'overlay embedded in pixel data' };
  if (rules.suspectEquipment.length) {
    const equipment = `${textOf(dataset, TAG.Manufacturer, charset)}\n${textOf(dataset, TAG.ManufacturerModelName, charset)}`.toLowerCase();
    const hit = rules.suspectEquipment.find((s) => equipment.includes(s.toLowerCase()));
    if (hit) return { reason: 'suspect manufacturer or model', detail: hit };
  }
  const sopClass = textOf(dataset, TAG.SOPClassUID);
  if (!sopClass) return { reason: 'SOP Class UID missing' };
  if (rules.riskySopClasses && !rules.allowSopClasses.includes(sopClass)) {
    const risky = RISKY_SOP_CLASSES.find(([root]) => sopClass === root || sopClass.startsWith(`${root}.`));
    if (risky && !(risky[1] === 'structured report' && cleanStructuredContent)) {
      const uid = /^[0-9.]{1,64}$/.test(sopClass) ? ` ${sopClass}` : '';
      return { reason: 'SOP class may carry burned-in or free text', detail: `${risky[1]}${uid}` };
    }
  }
  return undefined;
}

/**
 * Overlay planes stored in the unused high bits of Pixel Data (Overlay Bits Allocated 16, an Overlay
 * Bit Position, no Overlay Data of their own): removing the overlay attributes would hide the bits,
 * not remove them, and we never change pixel data.
 */
function hasEmbeddedOverlay(dataset: readonly Element[]): boolean {
  for (let group = 0x6000; group <= 0x601e; group += 2) {
    const rows = findElement(dataset, ((group << 16) | 0x0010) >>> 0);
    if (!rows) continue;
    const data = findElement(dataset, ((group << 16) | 0x3000) >>> 0);
    const bitPosition = findElement(dataset, ((group << 16) | 0x0102) >>> 0);
    const nonZeroPosition = !!bitPosition?.value && bitPosition.value.some((b) => b !== 0); // either byte order
    if (!data && nonZeroPosition) return true;
  }
  return false;
}
