import assert from 'node:assert/strict';
import { instancePath } from '../../src/scp/store';
import { splitFile, splitPart10 } from './dicom-files';
import type { Orthanc } from './orthanc';
import type { SyntheticFile } from './synthetic';

/** Every file a pull wrote under `out` holds the dataset Orthanc stored, in the same transfer syntax. */
export async function assertPulledAsStored(staging: Orthanc, files: readonly SyntheticFile[], out: string): Promise<void> {
  const byUid = new Map((await staging.instances()).map((i) => [i.sopInstanceUid, i]));
  for (const f of files) {
    const inOrthanc = splitPart10(await staging.instanceFile(byUid.get(f.sopInstanceUid)!.id));
    const pulled = splitFile(instancePath(out, { ...f, sopClassUid: '' }));
    assert.ok(pulled.dataset.equals(inOrthanc.dataset), `${f.sopInstanceUid} identical`);
    assert.equal(pulled.transferSyntaxUid, inOrthanc.transferSyntaxUid);
  }
}
