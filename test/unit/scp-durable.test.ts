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
import { DirectorySync, makeDirectoryDurably, writeFileAtomic } from '../../src/scp/durable';

const root = mkdtempSync(join(tmpdir(), 'scp-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('writeFileAtomic', () => {
  test('writes every chunk, replaces an earlier copy, leaves no temp file', () => {
    const path = join(root, 'a.dcm');
    writeFileAtomic(path, [Buffer.from('one'), Buffer.alloc(0), Buffer.from('two')], true);
    assert.equal(readFileSync(path, 'latin1'), 'onetwo');
    writeFileAtomic(path, [Buffer.from('three')], true);
    assert.equal(readFileSync(path, 'latin1'), 'three');
    assert.deepEqual(readdirSync(root).filter((n) => n.endsWith('.tmp')), []);
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test('a failure (missing directory) throws and leaves nothing behind', () => {
    assert.throws(() => writeFileAtomic(join(root, 'missing', 'b.dcm'), [Buffer.from('x')], true), /ENOENT/);
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
