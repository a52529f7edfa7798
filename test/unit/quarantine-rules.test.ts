import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_QUARANTINE_RULES, quarantineVerdict, type QuarantineRules } from '../../src/anon/quarantine-rules';
import type { Element } from '../../src/dicom/dataset';
import { phiDataset, sorted, text } from '../helpers/dicom-builder';

function withValues(overrides: Element[], drop: number[] = []): Element[] {
  const tags = new Set([...overrides.map((e) => e.tag), ...drop]);
  return sorted([...phiDataset().filter((e) => !tags.has(e.tag)), ...overrides]);
}

const verdict = (ds: Element[], rules: Partial<QuarantineRules> = {}, cleanSR = false): string | undefined =>
  quarantineVerdict(ds, { ...DEFAULT_QUARANTINE_RULES, ...rules }, cleanSR)?.reason;

test('a plain CT passes', () => {
  assert.equal(verdict(phiDataset()), undefined);
});

test('each rule, and each can be switched off', () => {
  const cases: Array<[Element[], string, Partial<QuarantineRules>]> = [
    [withValues([text(0x0008103e, 'LO', 'Patient Protocol')]), 'patient protocol', { patientProtocol: false }],
    [withValues([text(0x0008103e, 'LO', 'SAVE SCREEN 1')]), 'likely screen capture', { screenCapture: false }],
    [withValues([text(0x00080008, 'CS', 'DERIVED\\SECONDARY\\SAVE')]), 'likely screen capture', { screenCapture: false }],
    [withValues([text(0x00080060, 'CS', 'US')]), 'modality not allowed', { allowedModalities: '*' }],
    [withValues([text(0x00280301, 'CS', 'YES')]), 'burned in annotation', { burnedInAnnotation: false }],
    [withValues([text(0x00080070, 'LO', 'PACSGEAR')]), 'suspect manufacturer or model', { suspectEquipment: [] }],
    [withValues([text(0x00081090, 'LO', 'The DICOM Box 3')]), 'suspect manufacturer or model', { suspectEquipment: [] }],
    [withValues([text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7')]), 'SOP class may carry burned-in or free text', { riskySopClasses: false }],
    [withValues([text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.104.1')]), 'SOP class may carry burned-in or free text', { allowSopClasses: ['1.2.840.10008.5.1.4.1.1.104.1'] }],
  ];
  for (const [ds, reason, off] of cases) {
    assert.equal(verdict(ds), reason);
    assert.equal(verdict(ds, off), undefined, `${reason} switched off`);
  }
});

test('a missing modality is quarantined even when every modality is allowed', () => {
  assert.equal(verdict(withValues([], [0x00080060]), { allowedModalities: '*' }), 'modality missing');
});

test('rules apply in the documented order', () => {
  const ds = withValues([text(0x0008103e, 'LO', 'PATIENT PROTOCOL SAVE'), text(0x00080060, 'CS', 'OT'), text(0x00280301, 'CS', 'YES')]);
  assert.equal(verdict(ds), 'patient protocol');
  assert.equal(verdict(ds, { patientProtocol: false }), 'likely screen capture');
  assert.equal(verdict(ds, { patientProtocol: false, screenCapture: false }), 'modality not allowed');
});

test('structured reports pass only with Clean Structured Content', () => {
  const sr = withValues([text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.88.33'), text(0x00080060, 'CS', 'SR')]);
  assert.equal(verdict(sr, { allowedModalities: '*' }), 'SOP class may carry burned-in or free text');
  assert.equal(verdict(sr, { allowedModalities: '*' }, true), undefined);
});
