import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Journal } from '../../src/run/journal';
import { diskFullError, isDiskFull } from '../../src/util/disk-full';
import { createLogger } from '../../src/util/logger';
import { tempDir } from '../helpers/anon-env';
import { isRoot, mountTmpfs, unmount } from '../helpers/tmpfs';

test('a log file that cannot be written never throws into the code that logged (regression: pino ENOSPC crash)', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, () => {
  const errors: string[] = [];
  const logger = createLogger({ file: '/dev/full', level: 'info', onWriteError: (err) => errors.push(err.code ?? '') });
  assert.doesNotThrow(() => {
    logger.info('one');
    logger.error({ status: '0xA700' }, 'C-STORE not stored');
  });
  assert.ok(errors.length >= 1 && errors.every((c) => c === 'ENOSPC'), errors.join(','));
});

test('the disk-full error names the place, its free space and what to do', () => {
  const { dir, cleanup } = tempDir('dp-full-msg-');
  try {
    const err = diskFullError(join(dir, 'not-yet', 'from_staging'), Object.assign(new Error('x'), { code: 'ENOSPC' }));
    assert.equal(err.code, 'E_DISK_FULL');
    assert.match(err.message, new RegExp(`^disk full writing ${dir}/not-yet/from_staging \\(ENOSPC, [\\d.]+ [kMG]B free\\): free space .*dicom-pipeline -r\`$`));
    assert.ok(isDiskFull(err));
    assert.ok(isDiskFull({ code: 'SQLITE_FULL' }));
    assert.ok(!isDiskFull({ code: 'EACCES' }));
    assert.ok(!isDiskFull(undefined));
  } finally {
    cleanup();
  }
});

test('a journal append that does not fit leaves no torn line behind', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, (t) => {
  const { dir, cleanup } = tempDir('dp-full-journal-');
  const mount = join(dir, 'tiny');
  if (!mountTmpfs(mount, '16k')) {
    cleanup();
    return t.skip('mount -t tmpfs failed here');
  }
  try {
    const journal = new Journal(join(mount, 'journal.jsonl'));
    journal.append([{ event: 'received', instance: 'hmac:1' }]);
    const before = statSync(journal.path).size;
    writeFileSync(join(mount, 'filler'), Buffer.alloc(8 * 1024)); // leaves part of a page
    const big = Array.from({ length: 200 }, (_, i) => ({ event: 'received' as const, instance: `hmac:${i}`, detail: 'x'.repeat(40) }));
    assert.throws(() => journal.append(big), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
    assert.equal(statSync(journal.path).size, before, 'the partial write was cut off');
    assert.ok(readFileSync(journal.path, 'utf8').endsWith('\n'));
    assert.equal(journal.read().length, 1);
  } finally {
    unmount(mount);
    cleanup();
  }
});
