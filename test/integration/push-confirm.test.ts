/**
 * Push confirmation against real archives: storage commitment with Orthanc's N-EVENT-REPORT on a new
 * association to our AE (and our resend of instances it reports failed), archives that refuse C-FIND
 * or offer no query at all (Orthanc with DicomAlwaysAllowStore, dcmtk storescp), and the exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PushReport } from '../../src/scu/push';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { validFixtures } from '../helpers/dicom-files';
import { Orthanc } from '../helpers/orthanc';
import { freePort } from '../helpers/ports';
import { stopChild, track } from '../helpers/processes';
import { writeSyntheticStudies, type SyntheticFile } from '../helpers/synthetic';

const FAST = ['--connect-timeout', '3', '--timeout', '10'];
const PIPE = 'PIPE';

/** Deletes instance A once and instance B every time it arrives, right after Orthanc stored it; logs each store. */
function luaDeleting(once: string, always: string): string {
  return `deleted = {}
function OnStoredInstance(instanceId, tags, metadata, origin)
  local sop = tags['SOPInstanceUID']
  print('stored ' .. sop)
  if (sop == '${once}' and not deleted[sop]) or sop == '${always}' then
    deleted[sop] = true
    RestApiDelete('/instances/' .. instanceId)
  end
end
`;
}

/** How many times Orthanc stored an instance, from the Lua script's log lines. */
function timesStored(orthanc: Orthanc, sopInstanceUid: string): number {
  return orthanc.log().split('\n').filter((l) => l.endsWith(`Lua says: stored ${sopInstanceUid}`)).length;
}

describe('push confirmation', () => {
  const { dir: root, cleanup } = tempDir('dp-confirm-');
  let localPort = 0;
  let files: SyntheticFile[] = [];
  const source = join(root, 'study');

  before(async () => {
    localPort = await freePort();
    const ct = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    files = writeSyntheticStudies(ct, join(root, 'synthetic'), { studies: 1, seriesPerStudy: 2, instancesPerSeries: 4 });
    mkdirSync(source);
    // Named so that the two the resend test targets are sent first, long before the N-ACTION.
    files.forEach((f, i) => copyFileSync(f.path, join(source, `${i}-${f.sopInstanceUid}.dcm`)));
  });

  after(() => cleanup());

  test('--confirm commitment: every instance confirmed by Orthanc\'s N-EVENT-REPORT on a new association to our AE', async () => {
    const orthanc = await Orthanc.start({ aeTitle: 'ARCHIVE', modalities: { pipe: { aeTitle: PIPE, host: '127.0.0.1', port: localPort } } });
    try {
      const res = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), '--confirm', 'commitment', '--json', ...FAST]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const report = JSON.parse(res.stdout) as PushReport;
      assert.equal(report.results.length, 8);
      for (const r of report.results) assert.deepEqual([r.status, r.confirmedBy, r.delivered], ['confirmed', 'storage commitment', true], r.path);
      const text = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), ...FAST]);
      assert.equal(text.code, 0, text.stdout + text.stderr);
      assert.match(text.stdout, /^stored: 8$/m);
      assert.match(text.stdout, /^confirmed: 8 \(storage commitment\)$/m, 'auto uses commitment when the archive offers it');
      assert.match(text.stdout, /^failed: 0$/m);
    } finally {
      await orthanc.stop();
    }
  });

  test('instances the commitment report names failed are sent again (bounded), then reported with the archive\'s reason', async () => {
    const [once, always] = [files[0].sopInstanceUid, files[1].sopInstanceUid];
    const lua = join(root, 'delete.lua');
    writeFileSync(lua, luaDeleting(once, always));
    const orthanc = await Orthanc.start({
      aeTitle: 'ARCHIVE',
      modalities: { pipe: { aeTitle: PIPE, host: '127.0.0.1', port: localPort } },
      config: { LuaScripts: [lua] },
    });
    try {
      const res = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), '--confirm', 'commitment', '--associations', '1', '--json', ...FAST]);
      assert.equal(res.code, 3, res.stdout + res.stderr);
      const report = JSON.parse(res.stdout) as PushReport;
      const byName = (sop: string) => report.results.find((r) => r.path.endsWith(`-${sop}.dcm`))!;
      assert.deepEqual([byName(once).status, byName(once).confirmedBy], ['confirmed', 'storage commitment'], 'resent, then committed');
      assert.equal(byName(always).status, 'failed');
      assert.match(byName(always).reason!, /storage commitment failed: 0x0112 no such object instance \(sent 3 times\)/);
      assert.equal(report.confirmed, 7);
      assert.equal(timesStored(orthanc, once), 2, 'the failed instance was sent a second time');
      assert.equal(timesStored(orthanc, always), 3, 'sent three times, no more');
      const text = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), '--confirm', 'commitment', ...FAST]);
      assert.equal(text.code, 3);
      assert.match(text.stdout, /^confirmed: 7 \(storage commitment\)$/m);
      assert.match(text.stdout, /^failed: 1$/m);
      assert.match(text.stderr, /1 of 8 files not delivered to ARCHIVE@127\.0\.0\.1:\d+/);
    } finally {
      await orthanc.stop();
    }
  });

  test('an archive that accepts the N-ACTION but cannot reach our port: commitment "unconfirmed" after the timeout; auto falls back to C-FIND', async () => {
    const wrongPort = await freePort();
    const orthanc = await Orthanc.start({ aeTitle: 'ARCHIVE', modalities: { pipe: { aeTitle: PIPE, host: '127.0.0.1', port: wrongPort } } });
    try {
      const strict = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), '--confirm', 'commitment', '--commitment-timeout', '2', ...FAST]);
      assert.equal(strict.code, 3, strict.stdout + strict.stderr);
      assert.match(strict.stdout, /^unconfirmed: 8 \(no storage commitment report within 2 s\) \[not delivered\]$/m);
      const auto = await runCliAsync(['push', orthanc.address, source, '--aet', PIPE, '--port', String(localPort), '--commitment-timeout', '2', ...FAST]);
      assert.equal(auto.code, 0, auto.stdout + auto.stderr);
      assert.match(auto.stdout, /^confirmed: 8 \(C-FIND\)$/m);
    } finally {
      await orthanc.stop();
    }
  });

  test('an archive that refuses every store: push exit 1, one line naming the peer and the cause', async () => {
    // Accepts stores only from AEs it knows, and does not know us.
    const strict = await Orthanc.start({ aeTitle: 'STRICT', config: { DicomAlwaysAllowStore: false } });
    try {
      const res = await runCliAsync(['push', strict.address, source, '--aet', PIPE, '--retries', '0', ...FAST]);
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stderr, /^dicom-pipeline: STRICT@127\.0\.0\.1:\d+ stored none of 8 files: .*"PIPE"/m);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(await strict.instanceIds(), []);
    } finally {
      await strict.stop();
    }
  });

  describe('archives that cannot confirm', () => {
    let storeOnly: Orthanc;
    before(async () => {
      // Stores from anyone, but we are not in its DicomModalities: it aborts our C-FIND.
      storeOnly = await Orthanc.start({ aeTitle: 'STOREONLY', config: { DicomAlwaysAllowStore: true } });
    });
    after(async () => storeOnly?.stop());

    test('auto against an Orthanc that refuses C-FIND and commitment: stored, unconfirmed with why, exit 0', async () => {
      await storeOnly.clear();
      const started = Date.now();
      const res = await runCliAsync(['push', storeOnly.address, source, '--aet', PIPE, '--port', String(localPort), ...FAST]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^stored: 8$/m);
      assert.match(res.stdout, /^unconfirmed: 8 \(the archive offers no way to confirm: storage commitment refused: association aborted .* in answer to our N-ACTION .*; C-FIND: association aborted by STOREONLY@/m);
      assert.match(res.stderr, /warning: stored but unconfirmed/);
      assert.ok(Date.now() - started < 25_000, 'the refusal is seen at once, not after a timeout');
      assert.equal((await storeOnly.instanceIds()).length, 8);
    });

    test('--confirm find against an archive that refuses C-FIND: stored, unconfirmed, exit 3', async () => {
      const res = await runCliAsync(['push', storeOnly.address, source, '--aet', PIPE, '--confirm', 'find', ...FAST]);
      assert.equal(res.code, 3, res.stdout + res.stderr);
      assert.match(res.stdout, /^stored: 8$/m);
      assert.match(res.stdout, /^unconfirmed: 8 \(C-FIND: association aborted by STOREONLY@.*\) \[not delivered\]$/m);
    });

    test('--confirm none: stored is done', async () => {
      const res = await runCliAsync(['push', storeOnly.address, source, '--aet', PIPE, '--confirm', 'none', '--json', ...FAST]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const report = JSON.parse(res.stdout) as PushReport;
      assert.ok(report.results.every((r) => r.status === 'stored' && r.delivered && !r.confirmedBy));
      const text = await runCliAsync(['push', storeOnly.address, source, '--aet', PIPE, '--confirm', 'none', ...FAST]);
      assert.match(text.stdout, /^stored: 8\nconfirmed: 0\nunconfirmed: 8 \(not asked for \(confirm: none\)\)\nfailed: 0$/m);
    });

    test('--confirm commitment without --port is a usage error', async () => {
      const res = await runCliAsync(['push', storeOnly.address, source, '--confirm', 'commitment']);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /--confirm commitment needs --port/);
    });
  });

  test('dcmtk storescp (store-only, no Q/R): push exit 0, "unconfirmed (the archive offers no way to confirm ...)"', async () => {
    const port = await freePort();
    const out = join(root, 'storescp');
    mkdirSync(out);
    const child = spawn('storescp', ['-aet', 'STORESCP', '-od', out, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    track(child);
    try {
      await waitForPort(port);
      const res = await runCliAsync(['push', `STORESCP@127.0.0.1:${port}`, source, '--aet', PIPE, '--port', String(localPort), ...FAST]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^stored: 8$/m);
      assert.match(res.stdout, /^confirmed: 0$/m);
      assert.match(res.stdout, /^unconfirmed: 8 \(the archive offers no way to confirm: STORESCP@127\.0\.0\.1:\d+ offers no storage commitment; C-FIND: .*accepted no presentation context for Study Root C-FIND\)$/m);
      assert.match(res.stdout, /^failed: 0$/m);
    } finally {
      await stopChild(child);
    }
  });
});

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}
