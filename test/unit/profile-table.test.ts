import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PROFILE_EDITION,
  PROFILE_MASKED_ROWS,
  PROFILE_PRIVATE_ROW,
  PROFILE_ROWS,
  type BasicAction,
  type ProfileRow,
} from '../../src/anon/rules/profile-table';

/** Lookup order the data is meant for: exact row, then masked row, then the private row for odd groups. */
function ruleFor(tag: number): ProfileRow | undefined {
  const exact = PROFILE_ROWS.get(tag);
  if (exact) return exact;
  const masked = PROFILE_MASKED_ROWS.find((r) => ((tag & r.mask) >>> 0) === r.value);
  if (masked) return masked;
  if (((tag >>> 16) & 1) === 1) return PROFILE_PRIVATE_ROW;
  return undefined;
}

test('edition is 2024b', () => {
  assert.equal(PROFILE_EDITION, '2024b');
});

test('Accession Number is Z and has no cleanDescOpt', () => {
  const row = PROFILE_ROWS.get(0x00080050);
  assert.ok(row);
  assert.equal(row.name, 'Accession Number');
  assert.equal(row.basic, 'Z');
  assert.equal(row.options.cleanDescOpt, undefined);
  assert.deepEqual(row.options, {});
});

test("Patient ID is Z/D, Patient's Name is Z", () => {
  assert.equal(PROFILE_ROWS.get(0x00100020)?.basic, 'Z/D');
  assert.equal(PROFILE_ROWS.get(0x00100010)?.basic, 'Z');
});

test('Study Date: Z, full dates K, modified dates C', () => {
  const row = PROFILE_ROWS.get(0x00080020);
  assert.ok(row);
  assert.equal(row.basic, 'Z');
  assert.equal(row.options.rtnLongModifDatesOpt, 'C');
  assert.equal(row.options.rtnLongFullDatesOpt, 'K');
});

test('UIDs are U with rtnUIDsOpt K', () => {
  for (const tag of [0x0020000d, 0x0020000e, 0x00080018]) {
    const row = PROFILE_ROWS.get(tag);
    assert.equal(row?.basic, 'U', `tag ${tag.toString(16)}`);
    assert.equal(row?.options.rtnUIDsOpt, 'K');
  }
});

test('Referenced Image Sequence is X/Z/U*', () => {
  assert.equal(PROFILE_ROWS.get(0x00081140)?.basic, 'X/Z/U*');
});

test('(6002,3000) matches the Overlay Data masked row; (6001,3000) is private', () => {
  const overlay = ruleFor(0x60023000);
  assert.equal(overlay?.name, 'Overlay Data');
  assert.equal(overlay?.basic, 'X');
  assert.equal(overlay?.options.cleanGraphOpt, 'C');
  assert.equal(ruleFor(0x60004000)?.name, 'Overlay Comments');
  assert.equal(ruleFor(0x501e1234)?.name, 'Curve Data');
  assert.equal(ruleFor(0x60013000), PROFILE_PRIVATE_ROW);
  assert.equal(ruleFor(0x60020010), undefined, 'overlay rows are not in Table E.1-1');
});

test('(0009,0010) falls to the private-attributes row', () => {
  assert.equal(PROFILE_ROWS.has(0x00090010), false);
  const row = ruleFor(0x00090010);
  assert.equal(row, PROFILE_PRIVATE_ROW);
  assert.equal(row?.basic, 'X');
  assert.equal(row?.options.rtnSafePrivOpt, 'C');
});

test('no exact row is in an odd (private) group', () => {
  for (const tag of PROFILE_ROWS.keys()) assert.equal((tag >>> 16) & 1, 0, tag.toString(16));
});

test('action mix matches the 2024b table (621 rows)', () => {
  const counts = new Map<BasicAction, number>();
  const all: ProfileRow[] = [...PROFILE_ROWS.values(), ...PROFILE_MASKED_ROWS, PROFILE_PRIVATE_ROW];
  for (const r of all) counts.set(r.basic, (counts.get(r.basic) ?? 0) + 1);
  assert.equal(all.length, 621);
  assert.deepEqual(Object.fromEntries([...counts].sort()), {
    D: 92, U: 54, X: 384, 'X/D': 22, 'X/Z': 11, 'X/Z/D': 8, 'X/Z/U*': 2, Z: 42, 'Z/D': 6,
  });
});

test('rows are keyed by their own tag and option values are K or C', () => {
  for (const [key, row] of PROFILE_ROWS) {
    assert.equal(key, row.tag);
    for (const v of Object.values(row.options)) assert.ok(v === 'K' || v === 'C');
  }
  const keys = [...PROFILE_ROWS.keys()];
  assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
});
