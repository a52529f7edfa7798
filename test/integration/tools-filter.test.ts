import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCli } from '../helpers/cli';
import { part10Bytes, phiDataset } from '../helpers/dicom-builder';
import { treeHashes } from '../helpers/files';

const { dir, cleanup } = tempDir('dp-filter-cli-');
test.after(cleanup);

/** Two studies × two series × two instances, plus a text file and a truncated DICOM file. */
const source = join(dir, 'source');
const uid = (st: number, se?: number, i?: number): string => ['1.2.826.0.1.3680043.99', st, se, i].filter((x) => x !== undefined).join('.');
for (const st of [1, 2]) {
  for (const se of [1, 2]) {
    for (const i of [1, 2]) {
      const path = join(source, `study${st}`, `series${se}`, `${i}.dcm`);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, part10Bytes(phiDataset({ study: uid(st), series: uid(st, se), sop: uid(st, se, i) })));
    }
  }
}
writeFileSync(join(source, 'notes.txt'), 'not DICOM');
cpSync(join(FIXTURES, 'misc', 'truncated.dcm'), join(source, 'study1', 'truncated.dcm'));
const sourceHashes = treeHashes(source);

function fresh(name: string): string {
  const copy = join(dir, name);
  cpSync(source, copy, { recursive: true });
  return copy;
}

test('filter --to copies the selected files with their relative paths; the source is untouched; bad files are reported', () => {
  const out = join(dir, 'out1');
  const res = runCli(['filter', '--from', source, '--to', out, '--studies', uid(1), '--instances', `${uid(2, 2, 1)}`]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual([...treeHashes(out).keys()], [
    'study1/series1/1.dcm', 'study1/series1/2.dcm', 'study1/series2/1.dcm', 'study1/series2/2.dcm', 'study2/series2/1.dcm',
  ]);
  for (const [rel, hash] of treeHashes(out)) assert.equal(hash, sourceHashes.get(rel), rel);
  assert.deepEqual(treeHashes(source), sourceHashes);
  assert.match(res.stdout, /scanned: +10 files/);
  assert.match(res.stdout, /DICOM: +8/);
  assert.match(res.stdout, /selected: +5/);
  assert.match(res.stdout, /copied: +5 to /);
  assert.match(res.stdout, /not a DICOM instance or unreadable: 2\n {2}notes\.txt: not a DICOM file.*\n {2}study1\/truncated\.dcm: /);
});

test('filter --json selects series; a second run finds identical copies; a different existing file is never overwritten', () => {
  const out = join(dir, 'out2');
  const json = join(dir, 'select.json');
  writeFileSync(json, JSON.stringify({ series: [uid(2, 1)], studies: [], instances: ['1.2.3.404'] }));
  const first = runCli(['filter', '--from', source, '--to', out, '--json', json]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /copied: +2/);
  assert.match(first.stdout, /requested UIDs found in no file: 1\n {2}instances: 1\.2\.3\.404/);
  const second = runCli(['filter', '--from', source, '--to', out, '--json', json]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /copied: +0/);
  assert.match(second.stdout, /unchanged: +2 \(identical/);

  writeFileSync(join(out, 'study2', 'series1', '2.dcm'), 'someone else\'s file');
  const third = runCli(['filter', '--from', source, '--to', out, '--series', uid(2, 1)]);
  assert.equal(third.code, 3, 'some files could not be copied');
  assert.match(third.stdout, /conflicts: +1 .*\n {2}study2\/series1\/2\.dcm: a different file exists/);
  assert.equal(readFileSync(join(out, 'study2', 'series1', '2.dcm'), 'utf8'), 'someone else\'s file');
});

test('filter --delete deletes only the selected DICOM files', () => {
  const tree = fresh('del');
  const res = runCli(['filter', '--from', tree, '--delete', '--series', `${uid(1, 2)},${uid(2, 1)}`]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /deleted: +4/);
  const left = [...treeHashes(tree).keys()];
  assert.deepEqual(left, ['notes.txt', 'study1/series1/1.dcm', 'study1/series1/2.dcm', 'study1/truncated.dcm', 'study2/series2/1.dcm', 'study2/series2/2.dcm']);
});

test('filter usage errors exit 2 with one line and change nothing', () => {
  const tree = fresh('usage');
  const before = treeHashes(tree);
  const badJson = join(dir, 'bad.json');
  writeFileSync(badJson, JSON.stringify({ study: [uid(1)] }));
  const cases: [string[], RegExp][] = [
    [['filter', '--from', tree, '--to', join(dir, 'x'), '--delete', '--studies', uid(1)], /either --to DIR or --delete, not both/],
    [['filter', '--from', tree, '--studies', uid(1)], /needs one of --to DIR .* or --delete/],
    [['filter', '--from', tree, '--delete'], /at least one UID/],
    [['filter', '--from', tree, '--delete', '--studies', `${uid(1)},DOE^JANE`], /^dicom-pipeline: --studies: item 2 of 2 not a DICOM UID [^D]*$/],
    [['filter', '--from', tree, '--delete', '--json', badJson], /unknown key "study"/],
    [['filter', '--from', tree, '--delete', '--json', join(dir, 'missing.json')], /missing\.json: not found/],
    [['filter', '--from', join(dir, 'nope'), '--delete', '--studies', uid(1)], /--from .*nope does not exist/],
    [['filter', '--from', tree, '--to', join(tree, 'inside'), '--studies', uid(1)], /must not be --from or inside it/],
  ];
  for (const [args, message] of cases) {
    const res = runCli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, message);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  }
  assert.deepEqual(treeHashes(tree), before);
  assert.ok(!existsSync(join(dir, 'x')));
});
