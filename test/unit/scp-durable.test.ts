/**
 * The SCP's durable writes (src/scp/durable.ts): temp files (created ahead or now, never left behind), and the
 * batching of directory fsyncs (bounded delay, one fsync per directory per batch, flush on demand
 * waits for earlier batches, failures reported).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DirectorySync, TempFiles, closeTemp, discardTemp, makeDirectoryDurably, writeChunks } from '../../src/scp/durable';

const root = mkdtempSync(join(tmpdir(), 'scp-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TempFiles, writeChunks, closeTemp', () => {
  test('writes every chunk; closeTemp keeps the bytes and the mode', async () => {
    const temps = new TempFiles();
    const temp = temps.take(root);
    writeChunks(temp.fd, [Buffer.from('one'), Buffer.alloc(0), Buffer.from('two')]);
    writeChunks(temp.fd, [Buffer.from('three')]);
    closeTemp(temp, true);
    assert.equal(readFileSync(temp.path, 'latin1'), 'onetwothree');
    assert.equal(statSync(temp.path).mode & 0o777, 0o640);
    assert.match(temp.path, /\/\.[^/]*\.tmp$/, 'a hidden name: no reader takes it for a received file');
    rmSync(temp.path);
  });

  test('a temp file created ahead is used by the next take there; clear() removes unused ones', async () => {
    const temps = new TempFiles(2);
    const dirs = ['t1', 't2', 't3'].map((d) => join(root, d));
    for (const d of dirs) await makeDirectoryDurably(d, false);
    temps.prepare(dirs[0]);
    temps.prepare(dirs[0]); // at most one per directory
    await sleep(20);
    const [ahead] = readdirSync(dirs[0]);
    assert.match(ahead, /^\..*\.tmp$/);
    const temp = temps.take(dirs[0]);
    assert.equal(temp.path, join(dirs[0], ahead), 'the file created ahead');
    discardTemp(temp);
    temps.prepare(dirs[0]);
    temps.prepare(dirs[1]);
    temps.prepare(dirs[2]); // beyond 2 directories: the oldest spare is dropped
    await sleep(20);
    assert.deepEqual(readdirSync(dirs[0]), []);
    temps.clear();
    for (const d of dirs) assert.deepEqual(readdirSync(d), [], d);
  });

  test('take() before the file created ahead exists creates one now, and the late one never appears', async () => {
    const temps = new TempFiles();
    const dir = join(root, 'early');
    await makeDirectoryDurably(dir, false);
    temps.prepare(dir);
    const temp = temps.take(dir); // setImmediate has not run yet
    await sleep(20);
    assert.deepEqual(readdirSync(dir), [temp.path.split('/').pop()]);
    discardTemp(temp);
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a missing directory throws; a temp file whose directory vanished is not used', async () => {
    const temps = new TempFiles();
    assert.throws(() => temps.take(join(root, 'missing')), /ENOENT/);
    temps.prepare(join(root, 'missing'));
    await sleep(20);
    assert.throws(() => temps.take(join(root, 'missing')), /ENOENT/, 'falls back to creating one now, which fails as it should');
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
