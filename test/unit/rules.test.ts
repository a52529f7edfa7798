import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROFILE, methodCodes, type ProfileOptions } from '../../src/anon/options';
import { RuleBook, safeListTags } from '../../src/anon/rules/resolve';
import { PROFILE_ROWS } from '../../src/anon/rules/profile-table';

const book = (o: Partial<ProfileOptions> = {}): RuleBook => new RuleBook({ ...DEFAULT_PROFILE, ...o });
const kind = (b: RuleBook, tag: number): string => {
  const r = b.rule(tag);
  return r.kind === 'conditional' ? r.action : r.kind === 'cleanDescriptor' ? `clean(${kind2(r.fallback)})` : r.kind;
};
const kind2 = (r: ReturnType<RuleBook['rule']>): string => (r.kind === 'conditional' ? r.action : r.kind);

test('basic profile actions: D, Z, X, U and the conditional ones', () => {
  const b = book({ cleanDescriptors: false, retainLongitudinal: 'off' });
  assert.equal(kind(b, 0x00080090), 'empty'); // Referring Physician's Name: Z
  assert.equal(kind(b, 0x00100020), 'Z/D'); // Patient ID
  assert.equal(kind(b, 0x00080080), 'X/Z/D'); // Institution Name
  assert.equal(kind(b, 0x00080018), 'uid'); // SOP Instance UID: U
  assert.equal(kind(b, 0x00081140), 'refs'); // Referenced Image Sequence: X/Z/U*
  assert.equal(kind(b, 0x00104000), 'remove'); // Patient Comments: X
  assert.equal(kind(b, 0x00080020), 'empty'); // Study Date: Z
  assert.equal(kind(b, 0x00080022), 'X/Z'); // Acquisition Date
  assert.equal(kind(b, 0x0040a730), 'dummy'); // Content Sequence: D
});

test('Retain Longitudinal: modified shifts, full keeps, off applies the basic action', () => {
  assert.equal(kind(book({ retainLongitudinal: 'modified' }), 0x00080020), 'shiftDates');
  assert.equal(kind(book({ retainLongitudinal: 'full' }), 0x00080020), 'keep');
  assert.equal(kind(book({ retainLongitudinal: 'off' }), 0x00080020), 'empty');
  // Birth date has no option column: it stays empty whatever the option
  assert.equal(kind(book({ retainLongitudinal: 'modified' }), 0x00100030), 'empty');
});

test('Clean Descriptors falls back to the basic action when the white list lacks the value', () => {
  assert.equal(kind(book(), 0x00081030), 'clean(remove)'); // Study Description: X
  assert.equal(kind(book(), 0x00180010), 'clean(Z/D)'); // Contrast/Bolus Agent
  assert.equal(kind(book({ cleanDescriptors: false }), 0x00081030), 'remove');
});

test('retain options keep what they name', () => {
  assert.equal(kind(book({ retainPatientCharacteristics: true }), 0x00101010), 'keep'); // Patient's Age
  assert.equal(kind(book(), 0x00101010), 'remove');
  assert.equal(kind(book({ retainDeviceIdentity: true }), 0x00081010), 'keep'); // Station Name
  assert.equal(kind(book({ retainUids: true }), 0x0020000d), 'keep');
  assert.equal(kind(book({ retainInstitutionIdentity: true }), 0x00080080), 'keep');
  // device identity keeps the calibration date's device meaning, but dates are still shifted (C beats K)
  assert.equal(kind(book({ retainDeviceIdentity: true }), 0x0018700c), 'shiftDates');
});

test('structured content is recursed only with Clean Structured Content', () => {
  assert.equal(kind(book({ cleanStructuredContent: true }), 0x0040a730), 'recurse');
});

test('private attributes, curves and overlays are removed; graphics stay removed even with Clean Graphics', () => {
  for (const b of [book(), book({ cleanGraphics: true })]) {
    assert.equal(kind(b, 0x00091001), 'remove');
    assert.equal(kind(b, 0x00090010), 'remove');
    assert.equal(kind(b, 0x60003000), 'remove');
    assert.equal(kind(b, 0x60020010), 'remove'); // Overlay Rows: outside the table, not safe: default-deny
    assert.equal(kind(b, 0x50001010), 'remove');
  }
});

test('default-deny: untabled text is removed, technical numbers and the safe list are kept, unknown UIDs remapped', () => {
  const b = book();
  assert.equal(kind(b, 0x00280010), 'keep'); // Rows (technical group, US)
  assert.equal(kind(b, 0x00180050), 'keep'); // Slice Thickness (technical group, DS)
  assert.equal(kind(b, 0x00080060), 'keep'); // Modality (safe list)
  assert.equal(kind(b, 0x00080016), 'keep'); // SOP Class UID (safe list)
  assert.equal(kind(b, 0x7fe00010), 'keep'); // Pixel Data
  assert.equal(kind(b, 0x00321060), 'clean(X/Z)'); // Requested Procedure Description: X/Z, Clean Descriptors
  assert.equal(kind(b, 0x00400007), 'clean(remove)'); // Scheduled Procedure Step Description: X, Clean Descriptors
  assert.equal(kind(b, 0x00080000), 'remove'); // group length
  assert.equal(kind(b, 0x00181400), 'clean(X/D)'); // Acquisition Device Processing Description
  assert.equal(kind(b, 0x00102201), 'remove'); // Patient Species Description: untabled text
  assert.equal(kind(b, 0x00209161), 'uid'); // Concatenation UID (table U)
});

test('no safe-list attribute is one the profile table names (the table must always win)', () => {
  const overlap = [...safeListTags()].filter((t) => PROFILE_ROWS.has(t));
  assert.deepEqual(overlap.map((t) => t.toString(16)), []);
});

test('method codes follow CID 7050 for each selected option', () => {
  assert.deepEqual(methodCodes(DEFAULT_PROFILE).map((c) => c.value), ['113100', '113105', '113107']);
  const all = methodCodes({ ...DEFAULT_PROFILE, retainLongitudinal: 'full', retainPatientCharacteristics: true, retainDeviceIdentity: true, retainUids: true, retainInstitutionIdentity: true, cleanGraphics: true, cleanStructuredContent: true });
  assert.deepEqual(all.map((c) => c.value), ['113100', '113103', '113104', '113105', '113106', '113108', '113109', '113110', '113112']);
});
