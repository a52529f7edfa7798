import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../../src/errors';
import { buildSelection, copyNoOverwrite, filterAction, isSelected, parseUidList, uidListsFromJson } from '../../src/tools/filter';
import type { InstanceInfo } from '../../src/tools/instance-info';
import { tempDir } from '../helpers/anon-env';

const usage = (err: unknown): boolean => err instanceof PipelineError && err.code === 'E_USAGE';

test('parseUidList: comma-separated, trimmed, empty items dropped, non-UIDs rejected', () => {
  assert.deepEqual(parseUidList(' 1.2.3 ,1.2.4,,', '--studies'), ['1.2.3', '1.2.4']);
  assert.deepEqual(parseUidList('', '--studies'), []);
  for (const bad of ['1.2.a', 'DOE^JANE', '1..2', '.1.2', '1.2.', `1.${'2'.repeat(70)}`]) {
    assert.throws(() => parseUidList(bad, '--series'), (err: unknown) => usage(err) && (err as Error).message.startsWith('--series: item 1 of 1') && !(err as Error).message.includes(bad), bad);
  }
});

test('uidListsFromJson: the documented shape, with every problem named', () => {
  assert.deepEqual(uidListsFromJson({ studies: ['1.2'], instances: [' 1.3 '] }, 'f'), { studies: ['1.2'], instances: ['1.3'] });
  assert.deepEqual(uidListsFromJson({}, 'f'), {});
  assert.throws(() => uidListsFromJson(['1.2'], 'f'), usage);
  assert.throws(() => uidListsFromJson(null, 'f'), usage);
  assert.throws(() => uidListsFromJson({ study: ['1.2'], series: '1.3' }, 'f'), (err: unknown) => usage(err) && /unknown key "study".*"series" must be an array/.test((err as Error).message));
  assert.throws(() => uidListsFromJson({ series: [1.2] }, 'f'), usage);
  assert.throws(() => uidListsFromJson({ series: ['x'] }, 'f'), usage);
});

test('buildSelection merges lists and needs at least one UID; filterAction needs exactly one of --to/--delete', () => {
  const sel = buildSelection({ studies: ['1.1'] }, { studies: ['1.1', '1.2'], series: ['2.1'] });
  assert.deepEqual([...sel.studies], ['1.1', '1.2']);
  assert.deepEqual([...sel.series], ['2.1']);
  assert.throws(() => buildSelection({}, { studies: [] }), usage);
  assert.deepEqual(filterAction('out', undefined), { kind: 'copy', to: 'out' });
  assert.deepEqual(filterAction(undefined, true), { kind: 'delete' });
  assert.throws(() => filterAction('out', true), usage);
  assert.throws(() => filterAction(undefined, undefined), usage);
});

test('isSelected: a file matches by its study, its series or its instance', () => {
  const info = (study: string, series: string, sop: string): InstanceInfo => ({
    studyUid: study, seriesUid: series, sopInstanceUid: sop, modality: 'CT', studyDescription: '', seriesDescription: '', patientName: '', patientId: '',
  });
  const sel = buildSelection({ studies: ['1.1'], series: ['2.2'], instances: ['3.3'] });
  assert.ok(isSelected(sel, info('1.1', '9', '9')));
  assert.ok(isSelected(sel, info('9', '2.2', '9')));
  assert.ok(isSelected(sel, info('9', '9', '3.3')));
  assert.ok(!isSelected(sel, info('1.2', '2.22', '3.33')));
});

test('copyNoOverwrite: copies, recognises an identical copy, never overwrites a different file, leaves no temp file', () => {
  const { dir, cleanup } = tempDir('dp-filter-unit-');
  try {
    const src = join(dir, 'a.dcm');
    writeFileSync(src, 'AAAA');
    const dest = join(dir, 'out', 'sub', 'a.dcm');
    assert.equal(copyNoOverwrite(src, dest), 'copied');
    assert.equal(readFileSync(dest, 'utf8'), 'AAAA');
    assert.equal(copyNoOverwrite(src, dest), 'identical');
    writeFileSync(src, 'AAAB');
    const outcome = copyNoOverwrite(src, dest);
    assert.equal(typeof outcome, 'object');
    assert.equal(readFileSync(dest, 'utf8'), 'AAAA', 'the different file at the destination is untouched');
    assert.deepEqual(readdirSync(join(dir, 'out', 'sub')), ['a.dcm']);
  } finally {
    cleanup();
  }
});
