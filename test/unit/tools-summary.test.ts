import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDataset } from '../../src/dicom/serialize';
import { parsePart10 } from '../../src/dicom/parse';
import { transferSyntax, IMPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { readInstanceInfo, scanFile, WHOLE_READ_LIMIT, type InstanceInfo } from '../../src/tools/instance-info';
import { SummaryBuilder } from '../../src/tools/summary';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES } from '../helpers/cli';
import { part10Bytes, phiDataset, sorted } from '../helpers/dicom-builder';

function info(over: Partial<InstanceInfo>): InstanceInfo {
  return {
    studyUid: '1.1', seriesUid: '1.1.1', sopInstanceUid: '1.1.1.1', modality: 'CT', studyDescription: 'CT CHEST',
    seriesDescription: 'AXIAL', patientName: 'DOE^JANE', patientId: 'MRN1', ...over,
  };
}

test('SummaryBuilder: counts by study and by series, not by file', () => {
  const b = new SummaryBuilder();
  b.add(info({}));
  b.add(info({ sopInstanceUid: '1.1.1.2' }));
  b.add(info({ seriesUid: '1.1.2', sopInstanceUid: '1.1.2.1', seriesDescription: 'CORONAL' }));
  b.add(info({ studyUid: '1.2', seriesUid: '1.2.1', sopInstanceUid: '1.2.1.1', modality: 'MR', studyDescription: 'MR BRAIN' }));
  b.add(info({ studyUid: '1.3', seriesUid: '1.1.1', sopInstanceUid: '1.3.1.1', patientId: '', patientName: 'ROE^RICHARD', studyDescription: '' }));
  b.addNonDicom('notes.txt', 'not a DICOM file (no DICM prefix)');
  const s = b.build('/x');
  assert.equal(s.files, 5);
  assert.equal(s.studies, 3);
  assert.equal(s.series, 4, 'a series UID reused in another study is another series');
  assert.equal(s.patients, 2);
  assert.deepEqual(s.modalities, [{ value: 'CT', count: 3 }, { value: 'MR', count: 1 }]);
  assert.deepEqual(s.studyDescriptions, [{ value: '', count: 1 }, { value: 'CT CHEST', count: 1 }, { value: 'MR BRAIN', count: 1 }]);
  assert.deepEqual(s.seriesDescriptions, [{ value: 'AXIAL', count: 3 }, { value: 'CORONAL', count: 1 }]);
  assert.deepEqual(s.patientNames, [{ value: 'DOE^JANE', count: 2 }, { value: 'ROE^RICHARD', count: 1 }]);
  assert.deepEqual(s.nonDicom, [{ path: 'notes.txt', reason: 'not a DICOM file (no DICM prefix)' }]);
});

test('readInstanceInfo decodes names in the file\'s declared character set', () => {
  const name = (file: string): string => readInstanceInfo(join(FIXTURES, 'charset', file)).patientName;
  assert.equal(name('chrGerm.dcm'), 'Äneas^Rüdiger');
  assert.equal(name('chrRuss.dcm'), 'Люкceмбypг');
  assert.equal(name('chrH31.dcm'), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
  assert.equal(name('chrI2.dcm'), 'Hong^Gildong=洪^吉洞=홍^길동');
  assert.equal(name('chrX2.dcm'), 'Wang^XiaoDong=王^小东=');
});

test('scanFile: non-DICOM, truncated and UID-less files are reported with a reason, never thrown', () => {
  const other = (rel: string): string => {
    const f = scanFile(FIXTURES, rel);
    assert.equal(f.kind, 'other', rel);
    return f.kind === 'other' ? f.reason : '';
  };
  assert.match(other('misc/not-dicom.txt'), /not a DICOM file/);
  assert.match(other('misc/truncated.dcm'), /runs past the end|truncated/);
  assert.match(other('misc/nested_priv_SQ.dcm'), /no Study Instance UID/);
  assert.match(other('misc/does-not-exist.dcm'), /unreadable \(stat: ENOENT\)/);
  assert.equal(scanFile(FIXTURES, 'ts/MR_small_bigendian.dcm').kind, 'dicom');
  assert.equal(scanFile(FIXTURES, 'ts/image_dfl.dcm').kind, 'dicom');
});

test('readInstanceInfo: a file above the whole-read limit (Pixel Data left on disk) and a bare dataset', () => {
  const { dir, cleanup } = tempDir('dp-summary-unit-');
  try {
    const big = phiDataset({ study: '1.2.99.1', series: '1.2.99.1.1', sop: '1.2.99.1.1.1' }).filter((e) => e.tag !== 0x7fe00010);
    big.push({ tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(WHOLE_READ_LIMIT + 1024, 1) });
    writeFileSync(join(dir, 'big.dcm'), part10Bytes(big));
    const i = readInstanceInfo(join(dir, 'big.dcm'));
    assert.deepEqual([i.studyUid, i.seriesUid, i.sopInstanceUid, i.patientName, i.studyDescription], ['1.2.99.1', '1.2.99.1.1', '1.2.99.1.1.1', 'SMITHSON^JOHANNA^Q', 'CT CHEST W/CONTRAST']);

    const parsed = parsePart10(readFileSync(join(FIXTURES, 'ts', 'MR_small_implicit.dcm')));
    const bare = Buffer.concat(encodeDataset(sorted(parsed.dataset), transferSyntax(IMPLICIT_LE)!));
    writeFileSync(join(dir, 'bare'), bare);
    assert.equal(readInstanceInfo(join(dir, 'bare')).modality, 'MR');
  } finally {
    cleanup();
  }
});
