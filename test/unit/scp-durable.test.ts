/**
 * The SCP's durable writes (src/scp/durable.ts): atomic replace, no temp file left on failure, and the
 * batching of directory fsyncs (bounded delay, one fsync per directory per batch, flush on demand
 * waits for earlier batches, failures reported).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DirectorySync, TempFiles, makeDirectoryDurably, writeFileAtomic } from '../../src/scp/durable';

const root = mkdtempSync(join(tmpdir(), 'scp-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('writeFileAtomic and TempFiles', () => {
  test('writes every chunk, replaces an earlier copy, leaves no temp file', async () => {
    const temps = new TempFiles();
    const path = join(root, 'a.dcm');
    writeFileAtomic(await temps.take(root), path, [Buffer.from('one'), Buffer.alloc(0), Buffer.from('two')], true);
    assert.equal(readFileSync(path, 'latin1'), 'onetwo');
    writeFileAtomic(await temps.take(root), path, [Buffer.from('three')], true);
    assert.equal(readFileSync(path, 'latin1'), 'three');
    assert.deepEqual(readdirSync(root).filter((n) => n.endsWith('.tmp')), []);
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test('a temp file created ahead is used by the next write there; clear() removes unused ones', async () => {
    const temps = new TempFiles(2);
    const dirs = ['t1', 't2', 't3'].map((d) => join(root, d));
    for (const d of dirs) await makeDirectoryDurably(d, false);
    temps.prepare(dirs[0]);
    temps.prepare(dirs[0]); // at most one per directory
    await sleep(20);
    const [ahead] = readdirSync(dirs[0]);
    assert.match(ahead, /^\..*\.tmp$/);
    const temp = await temps.take(dirs[0]);
    assert.equal(temp.path, join(dirs[0], ahead), 'the file created ahead');
    writeFileAtomic(temp, join(dirs[0], 'x.dcm'), [Buffer.from('x')], false);
    temps.prepare(dirs[0]);
    temps.prepare(dirs[1]);
    temps.prepare(dirs[2]); // beyond 2 directories: the oldest spare is dropped
    await sleep(20);
    assert.deepEqual(readdirSync(dirs[0]), ['x.dcm']);
    await temps.clear();
    for (const d of dirs) assert.deepEqual(readdirSync(d).filter((n) => n.endsWith('.tmp')), [], d);
  });

  test('a failure (missing directory) throws; a temp file whose directory vanished is not used', async () => {
    const temps = new TempFiles();
    await assert.rejects(async () => writeFileAtomic(await temps.take(join(root, 'missing')), join(root, 'missing', 'b.dcm'), [Buffer.from('x')], true), /ENOENT/);
    temps.prepare(join(root, 'missing'));
    await assert.rejects(temps.take(join(root, 'missing')), /ENOENT/, 'falls back to creating one now, which fails as it should');
  });

  test('a write that fails removes its temp file', async () => {
    const temps = new TempFiles();
    const dir = join(root, 'fail');
    await makeDirectoryDurably(dir, false);
    const temp = await temps.take(dir);
    assert.throws(() => writeFileAtomic(temp, join(root, 'no-such-dir', 'c.dcm'), [Buffer.from('x')], false), /ENOENT/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('makeDirectoryDurably', () => {
  test('creates the missing chain; a second call is a no-op', async () => {
    const dir = join(root, 'study', 'series');
    await makeDirectoryDurably(dir, true);
    assert.ok(statSync(dir).isDirectory());
    await makeDirectoryDurably(dir, true);
  });
});

describe('DirectorySync (batched directory fsyncs)', () => {
  const recorder = (fail?: string) => {
    const calls: string[] = [];
    const errors: string[] = [];
    const sync = new DirectorySync(
      30,
      (err, dir) => errors.push(`${dir}: ${err.message}`),
      async (dir) => {
        await sleep(5);
        calls.push(dir);
        if (dir === fail) throw new Error('EIO');
      },
    );
    return { sync, calls, errors };
  };

  test('renames in the same directory share one fsync, within the bounded delay', async () => {
    const { sync, calls } = recorder();
    sync.mark('/d1');
    sync.mark('/d1');
    sync.mark('/d2');
    sync.mark('/d1');
    assert.deepEqual(calls, [], 'nothing synced at once');
    await sleep(80);
    assert.deepEqual(calls.sort(), ['/d1', '/d2']);
  });

  test('flush() syncs at once, and resolves only after an earlier batch still running', async () => {
    const { sync, calls } = recorder();
    sync.mark('/a');
    const first = sync.flush();
    sync.mark('/b');
    await sync.flush();
    assert.deepEqual(calls, ['/a', '/b'], 'in order: the second flush waited for the first');
    await first;
    await sync.flush(); // nothing pending: resolves
    await sleep(50);
    assert.deepEqual(calls, ['/a', '/b'], 'no timer left behind by a flush');
  });

  test('a failed fsync is reported and makes flush() reject', async () => {
    const { sync, errors } = recorder('/bad');
    sync.mark('/good');
    sync.mark('/bad');
    await assert.rejects(sync.flush(), /EIO/);
    assert.deepEqual(errors, ['/bad: EIO']);
    sync.mark('/bad');
    await sleep(80); // the timer's flush reports too, without an unhandled rejection
    assert.deepEqual(errors, ['/bad: EIO', '/bad: EIO']);
  });
});
