import { findElement, type Element } from '../dicom/dataset';
import { decodeText, decodeTextValues } from '../dicom/values';

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

/** Families of SOP classes whose pixels or content are text, screenshots, photos or documents. */
const RISKY_SOP_CLASSES: ReadonlyArray<[prefix: string, what: string]> = [
  ['1.2.840.10008.5.1.4.1.1.7', 'secondary capture'],
  ['1.2.840.10008.5.1.4.1.1.104.', 'encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.88.', 'structured report'],
  ['1.2.840.10008.5.1.4.1.1.6.', 'ultrasound'],
  ['1.2.840.10008.5.1.4.1.1.3.1', 'ultrasound multi-frame'],
  ['1.2.840.10008.5.1.4.1.1.77.1', 'visible light photograph or video'],
  ['1.2.840.10008.1.3.10', 'media directory (DICOMDIR)'],
];

export interface QuarantineVerdict {
  readonly reason: string;
  /** Safe to print: codes and class names, never a value that could identify someone. */
  readonly detail?: string;
}

const TAG = {
  ImageType: 0x00080008, SOPClassUID: 0x00080016, Modality: 0x00080060, Manufacturer: 0x00080070,
  SeriesDescription: 0x0008103e, ManufacturerModelName: 0x00081090, BurnedInAnnotation: 0x00280301,
};

function text(dataset: readonly Element[], tag: number, charset?: string): string {
  const el = findElement(dataset, tag);
  return el ? decodeText(el, charset) : '';
}

/** The first rule (in the documented order) that the file breaks, or undefined. */
export function quarantineVerdict(dataset: readonly Element[], rules: QuarantineRules, cleanStructuredContent: boolean): QuarantineVerdict | undefined {
  const charset = text(dataset, 0x00080005);
  const seriesDescription = text(dataset, TAG.SeriesDescription, charset).toLowerCase();
  if (rules.patientProtocol && seriesDescription.includes('patient protocol')) return { reason: 'patient protocol' };
  if (rules.screenCapture) {
    const imageType = text(dataset, TAG.ImageType).toLowerCase();
    if (seriesDescription.includes('save') || imageType.includes('save')) return { reason: 'likely screen capture' };
  }
  const modalityElement = findElement(dataset, TAG.Modality);
  const modality = modalityElement ? decodeTextValues(modalityElement)[0].toUpperCase() : '';
  if (!modality) return { reason: 'modality missing' };
  if (rules.allowedModalities !== '*' && !rules.allowedModalities.includes(modality)) {
    return { reason: 'modality not allowed', detail: /^[A-Z0-9_ ]{1,16}$/.test(modality) ? modality : undefined };
  }
  if (rules.burnedInAnnotation && text(dataset, TAG.BurnedInAnnotation).toUpperCase() === 'YES') return { reason: 'burned in annotation' };
  if (rules.suspectEquipment.length) {
    const equipment = `${text(dataset, TAG.Manufacturer, charset)}\n${text(dataset, TAG.ManufacturerModelName, charset)}`.toLowerCase();
    const hit = rules.suspectEquipment.find((s) => equipment.includes(s.toLowerCase()));
    if (hit) return { reason: 'suspect manufacturer or model', detail: hit };
  }
  const sopClass = text(dataset, TAG.SOPClassUID);
  if (!sopClass) return { reason: 'SOP Class UID missing' };
  if (rules.riskySopClasses && !rules.allowSopClasses.includes(sopClass)) {
    const risky = RISKY_SOP_CLASSES.find(([prefix]) => sopClass === prefix || sopClass.startsWith(prefix.endsWith('.') ? prefix : `${prefix}.`));
    if (risky && !(risky[1] === 'structured report' && cleanStructuredContent)) {
      return { reason: 'SOP class may carry burned-in or free text', detail: `${risky[1]} ${sopClass}` };
    }
  }
  return undefined;
}
