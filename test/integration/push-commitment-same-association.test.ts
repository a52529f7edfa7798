/**
 * A storage commitment report that comes on the association of its N-ACTION (PS3.4 J.3.3 allows
 * it; Orthanc and dcmtk never do it, some archives do). The archive here is dcmjs-dimse's own SCP
 * (an independent DIMSE implementation: its message layer, not ours), which commits what it stored
 * and reports at once on the same association, naming one instance failed.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import '../../src/dicom/dimse-lib'; // silences dcmjs-dimse's logging before it is used here
import * as dimse from 'dcmjs-dimse';
import type { PushReport } from '../../src/scu/push';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { validFixtures } from '../helpers/dicom-files';
import { freePort } from '../helpers/ports';
import { writeSyntheticStudies, type SyntheticFile } from '../helpers/synthetic';

const COMMITMENT = '1.2.840.10008.1.20.1';
const COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';

const { dir: root, cleanup } = tempDir('dp-commit-same-');
let files: SyntheticFile[] = [];
let server: InstanceType<typeof dimse.Server>;
let port = 0;
/** What the archive stored, and the one instance it will always report failed. */
const stored = new Set<string>();
let refused = '';

before(async () => {
  const ct = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
  files = writeSyntheticStudies(ct, join(root, 'synthetic'), { studies: 1, seriesPerStudy: 1, instancesPerSeries: 4 });
  mkdirSync(join(root, 'study'));
  for (const f of files) copyFileSync(f.path, join(root, 'study', `${f.sopInstanceUid}.dcm`));
  refused = files[2].sopInstanceUid;

  class CommittingArchive extends dimse.Scp {
    override associationRequested(association: InstanceType<typeof dimse.association.Association>): void {
      for (const { context } of association.getPresentationContexts()) context.setResult(0, context.getTransferSyntaxUids()[0]);
      this.sendAssociationAccept();
    }
    override cStoreRequest(request: InstanceType<typeof dimse.requests.CStoreRequest>, callback: (r: InstanceType<typeof dimse.responses.CStoreResponse>) => void): void {
      stored.add(request.getAffectedSopInstanceUid());
      const response = dimse.responses.CStoreResponse.fromRequest(request);
      response.setStatus(0);
      callback(response);
    }
    override nActionRequest(request: InstanceType<typeof dimse.requests.NActionRequest>, callback: (r: InstanceType<typeof dimse.responses.NActionResponse>) => void): void {
      const response = dimse.responses.NActionResponse.fromRequest(request);
      response.setStatus(0);
      callback(response);
      const asked = request.getDataset()!.getElements() as { TransactionUID: string; ReferencedSOPSequence: { ReferencedSOPClassUID: string; ReferencedSOPInstanceUID: string }[] };
      const ok = asked.ReferencedSOPSequence.filter((r) => stored.has(r.ReferencedSOPInstanceUID) && r.ReferencedSOPInstanceUID !== refused);
      const failed = asked.ReferencedSOPSequence.filter((r) => !ok.includes(r)).map((r) => ({ ...r, FailureReason: 0x0110 }));
      const report = new dimse.requests.NEventReportRequest(COMMITMENT, COMMITMENT_INSTANCE, failed.length ? 2 : 1);
      report.setDataset(new dimse.Dataset({
        TransactionUID: asked.TransactionUID,
        ReferencedSOPSequence: ok,
        ...(failed.length ? { FailedSOPSequence: failed } : {}),
      }));
      this.sendRequests(report);
    }
    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
  }
  port = await freePort();
  server = new dimse.Server(CommittingArchive);
  server.listen(port);
});

after(() => {
  server?.close();
  cleanup();
});

test('a commitment report on the N-ACTION\'s own association is answered and counted; a failed instance is resent, then reported', async () => {
  const res = await runCliAsync(['push', `ARCHIVE@127.0.0.1:${port}`, join(root, 'study'), '--aet', 'PIPE', '--port', String(await freePort()),
    '--confirm', 'commitment', '--commitment-timeout', '20', '--json', '--connect-timeout', '3', '--timeout', '10']);
  assert.equal(res.code, 3, res.stdout + res.stderr);
  const report = JSON.parse(res.stdout) as PushReport;
  for (const f of files) {
    const r = report.results.find((x) => x.path.endsWith(`${f.sopInstanceUid}.dcm`))!;
    if (f.sopInstanceUid === refused) {
      assert.equal(r.status, 'failed');
      assert.match(r.reason!, /storage commitment failed: 0x0110 processing failure \(sent 3 times\)/);
    } else {
      assert.deepEqual([r.status, r.confirmedBy], ['confirmed', 'storage commitment'], r.path);
    }
  }
});
