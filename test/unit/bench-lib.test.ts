import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envName, flagName, parseOptions } from '../../bench/lib/args';
import { corpusAttributes, defaultShape, fakePatient, fakeStudy, planCorpus } from '../../bench/lib/corpus';
import { attribute, fn, frameLabel, topSelf, type CpuProfile } from '../../bench/lib/cpu-profile';
import { parseGnuTimeOutput, parseVmHwm } from '../../bench/lib/process';
import { randomUid, seededRng } from '../../bench/lib/random';
import { median, rate, ratio, summarize } from '../../bench/lib/stats';
import { formatCell, formatTable } from '../../bench/lib/table';

test('median of odd and even sample counts, and of none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('summarize gives min, max and spread relative to the median', () => {
  const s = summarize([10, 12, 8]);
  assert.deepEqual({ n: s.n, median: s.median, min: s.min, max: s.max, mean: s.mean }, { n: 3, median: 10, min: 8, max: 12, mean: 10 });
  assert.equal(s.spread, 0.4);
});

test('ratio and rate never turn a missing or zero side into a number', () => {
  assert.equal(ratio(600, 1200), 0.5);
  assert.ok(Number.isNaN(ratio(600, 0)));
  assert.ok(Number.isNaN(ratio(600, Number.NaN)));
  assert.equal(rate(2000, 4), 500);
  assert.ok(Number.isNaN(rate(2000, 0)));
});

test('formatTable aligns numbers right, text left, and shows missing values as -', () => {
  const out = formatTable(
    [{ header: 'tool' }, { header: 'files/s', decimals: 1 }],
    [['ours', 512.345], ['gdcmanon', Number.NaN]],
  );
  assert.equal(out, [
    'tool      files/s',
    '--------  -------',
    'ours        512.3',
    'gdcmanon        -',
  ].join('\n'));
  assert.equal(formatCell(undefined), '-');
});

test('options come from argv over env over defaults, in every spelling', () => {
  const specs = {
    files: { default: 2000, help: '' },
    flatSizes: { default: [500, 2000] as number[], help: '' },
    warm: { default: true, help: '' },
    tmpDir: { default: '', help: '' },
  };
  assert.equal(envName('flatSizes'), 'BENCH_FLAT_SIZES');
  assert.equal(flagName('flatSizes'), '--flat-sizes');
  assert.deepEqual(parseOptions(specs, []), { files: 2000, flatSizes: [500, 2000], warm: true, tmpDir: '' });
  assert.deepEqual(
    parseOptions(specs, ['--files', '300', '--no-warm', '--tmp-dir=/dev/shm'], { BENCH_FILES: '100', BENCH_FLAT_SIZES: '10, 20' }),
    { files: 300, flatSizes: [10, 20], warm: false, tmpDir: '/dev/shm' },
  );
  assert.deepEqual(parseOptions(specs, ['--flat-sizes=']).flatSizes, []);
  assert.equal(parseOptions(specs, [], { BENCH_WARM: 'no' }).warm, false);
  assert.throws(() => parseOptions(specs, ['--files', 'many']), /--files expects a number/);
  assert.throws(() => parseOptions(specs, ['--fast']), /unknown option --fast/);
  assert.throws(() => parseOptions(specs, ['--files']), /--files needs a value/);
});

test('the seeded generator repeats itself and makes valid 2.25 UIDs', () => {
  const a = seededRng(42);
  const b = seededRng(42);
  const uids = Array.from({ length: 200 }, () => randomUid(a));
  assert.deepEqual(uids, Array.from({ length: 200 }, () => randomUid(b)));
  for (const uid of uids) {
    assert.match(uid, /^2\.25\.[1-9]\d*$/);
    assert.ok(uid.length <= 64);
    assert.ok(BigInt(uid.slice(5)) < 2n ** 128n);
  }
  assert.equal(new Set(uids).size, uids.length);
  const r = seededRng(7);
  for (let i = 0; i < 1000; i++) {
    const n = r.int(3, 5);
    assert.ok(n >= 3 && n <= 5 && Number.isInteger(n));
  }
});

test('planCorpus spreads files over patients, studies and series', () => {
  const plan = planCorpus(defaultShape(2000));
  assert.equal(plan.length, 2000);
  assert.equal(new Set(plan.map((f) => f.patient)).size, 20);
  assert.equal(new Set(plan.map((f) => `${f.patient}/${f.study}`)).size, 80);
  assert.ok(plan.every((f) => f.instance >= 1 && f.instance <= 25));

  const uneven = planCorpus({ files: 10, patients: 1, studiesPerPatient: 3, seriesPerStudy: 1 });
  const perStudy = [0, 1, 2].map((s) => uneven.filter((f) => f.study === s).length);
  assert.deepEqual(perStudy, [4, 3, 3]);
  assert.equal(planCorpus({ files: 0, patients: 1, studiesPerPatient: 1, seriesPerStudy: 1 }).length, 0);
  assert.throws(() => planCorpus({ files: 5, patients: 0, studiesPerPatient: 1, seriesPerStudy: 1 }));
});

test('corpus attributes carry fake PHI that fits its VRs', () => {
  const rng = seededRng(1);
  const patient = fakePatient(rng);
  const study = fakeStudy(rng);
  assert.match(patient.name, /^[A-Z]+\^[A-Z]+\^[A-Z]$/);
  assert.match(patient.birthDate, /^(19[4-9]\d|2000)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])$/);
  const attrs = corpusAttributes(patient, study, randomUid(rng), 1, randomUid(rng), 7);
  const limits: Record<string, number> = { UI: 64, SH: 16, LO: 64, PN: 64, DA: 8, IS: 12 };
  for (const [tag, vr, value] of attrs) assert.ok(value.length <= limits[vr], `${tag.toString(16)} ${vr} "${value}" too long`);
  const tags = attrs.map(([tag]) => tag);
  assert.deepEqual(tags, [...tags].sort((x, y) => x - y));
  assert.ok(attrs.some(([tag, , v]) => tag === 0x00200013 && v === '7'));
});

test('GNU time and /proc status parsing', () => {
  assert.deepEqual(parseGnuTimeOutput('Command exited with non-zero status 1\n2.51 163840\n'), { seconds: 2.51, peakRssBytes: 163840 * 1024 });
  assert.equal(parseGnuTimeOutput('garbage'), undefined);
  assert.equal(parseVmHwm('Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t  161024 kB\nVmRSS:\t 1000 kB\n'), 161024 * 1024);
  assert.equal(parseVmHwm('Name:\tzombie\n'), undefined);
});

/** root → main → [parse, deidentify → uid]; plus a GC pseudo-frame under root. */
function sampleProfile(): CpuProfile {
  const frame = (functionName: string, url = 'file:///work/main/dist/src/x.js') => ({ functionName, url, lineNumber: 9 });
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 6] },
      { id: 2, callFrame: frame('main'), children: [3, 4] },
      { id: 3, callFrame: frame('parsePart10', 'file:///work/main/dist/src/dicom/parse.js') },
      { id: 4, callFrame: frame('deidentify'), children: [5] },
      { id: 5, callFrame: frame('uid', 'file:///work/main/dist/src/anon/identity/identity-map.js') },
      { id: 6, callFrame: frame('(garbage collector)', '') },
    ],
    startTime: 0,
    endTime: 100,
    samples: [3, 3, 4, 5, 5, 5, 6, 2],
    timeDeltas: [10, 10, 20, 10, 10, 10, 20, 10],
  };
}

test('attribute gives each sample to the innermost matching step', () => {
  const slices = attribute(sampleProfile(), [
    { name: 'parse', match: fn('parsePart10') },
    { name: 'deidentify', match: fn('deidentify') },
    { name: 'identity', match: (f) => f.url.includes('identity-map') },
    { name: 'gc', match: fn('(garbage collector)') },
  ], 'rest');
  const byName = Object.fromEntries(slices.map((s) => [s.name, s.micros]));
  assert.deepEqual(byName, { parse: 20, deidentify: 20, identity: 30, gc: 20, rest: 10 });
  assert.equal(slices[0].name, 'identity');
  assert.ok(Math.abs(slices.reduce((s, x) => s + x.share, 0) - 1) < 1e-9);
});

test('topSelf ranks functions by self time and labels them by file', () => {
  const top = topSelf(sampleProfile(), 2);
  assert.deepEqual(top.map((s) => [s.name, s.micros]), [['uid (src/anon/identity/identity-map.js:10)', 30], ['parsePart10 (src/dicom/parse.js:10)', 20]]);
  assert.equal(frameLabel({ functionName: '', url: 'file:///a/node_modules/better-sqlite3/lib/x.js', lineNumber: 0 }), '(anonymous) (better-sqlite3/lib/x.js:1)');
  assert.equal(frameLabel({ functionName: 'open', url: '', lineNumber: -1 }), 'open');
});
