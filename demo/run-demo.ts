/**
 * npm run demo: the whole pipeline on this machine, against two real Orthanc servers on loopback
 * (a staging PACS holding identified studies with fake PHI, and a research PACS), then prints the
 * run's overview and where everything is. Both servers are stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findElement } from '../src/dicom/dataset';
import { parsePart10 } from '../src/dicom/parse';
import { decodeText } from '../src/dicom/values';
import { RunDir } from '../src/run/run-dir';
import { BIN, ROOT } from '../test/helpers/cli';
import { ORTHANC_BINARY } from '../test/helpers/orthanc';
import { startPipelinePeers } from '../test/helpers/pipeline-peers';
import { fakeStudy, type FakeStudy } from '../test/helpers/studies';

const STUDIES: FakeStudy[] = [
  { patientId: 'DEMO-001', patientName: 'SAMPLE^ALICE', studyUid: '1.2.826.0.1.3680043.10.543.1', instances: 4, extraSeries: { description: 'Patient Protocol', instances: 1 } },
  { patientId: 'DEMO-001', patientName: 'SAMPLE^ALICE', studyUid: '1.2.826.0.1.3680043.10.543.2', modality: 'MR', instances: 3 },
  { patientId: 'DEMO-002', patientName: 'EXAMPLE^BOB', studyUid: '1.2.826.0.1.3680043.10.543.3', modality: 'US', instances: 2 },
  { patientId: 'DEMO-003', patientName: 'PLACEHOLDER^CARL', studyUid: '1.2.826.0.1.3680043.10.543.4', burnedIn: true, instances: 2 },
];
const NOT_IN_STAGING = '1.2.826.0.1.3680043.10.543.9';

function header(bytes: Buffer): string {
  const ds = parsePart10(bytes).dataset;
  const get = (tag: number): string => {
    const e = findElement(ds, tag);
    return e ? decodeText(e) || '(empty)' : '(removed)';
  };
  return `name=${get(0x00100010)} id=${get(0x00100020)} birth=${get(0x00100030)} institution=${get(0x00080080)} ` +
    `study date=${get(0x00080020)} accession=${get(0x00080050)}`;
}

async function main(): Promise<number> {
  if (!existsSync(ORTHANC_BINARY)) {
    process.stderr.write(`demo: Orthanc is not installed (${ORTHANC_BINARY}); install it with: sudo apt-get install -y orthanc\n`);
    return 2;
  }
  const site = resolve(ROOT, 'demo-site');
  mkdirSync(site, { recursive: true });
  process.stdout.write('demo: starting a staging and a research Orthanc on loopback...\n');
  const peers = await startPipelinePeers(STUDIES);
  const research = peers.research;
  try {
    const n = (await peers.staging.instanceIds()).length;
    process.stdout.write(`demo: staging holds ${n} identified instances of ${STUDIES.length} studies (fake PHI)\n`);
    writeFileSync(join(site, 'reviewed.csv'), [
      'study_instance_uid,has_protocol_series,comment',
      `${STUDIES[0].studyUid},true,"protocol sheet scanned in, series 2"`,
      `${STUDIES[1].studyUid},false,`,
      `${STUDIES[2].studyUid},false,ultrasound: the allowed modalities will stop it`,
      `${STUDIES[3].studyUid},false,burned-in annotation: quarantined`,
      `${NOT_IN_STAGING},false,reviewed but no longer on staging`,
    ].join('\n') + '\n');
    const { network: _fastTimeoutsForTests, ...config } = peers.config({
      review: { csv: 'reviewed.csv' },
      identityDb: 'identity.db',
      keyFile: 'identity.key',
      dataDir: 'data',
      dicomRoot: '1.2.826.0.1.3680043.10.99',
      allowedModalities: ['MR', 'CT'],
      postAnonHook: 'simple',
    });
    writeFileSync(join(site, 'dicom-pipeline.json'), JSON.stringify(config, null, 2) + '\n');
    process.stdout.write(`demo: running \`dicom-pipeline\` in ${relative(ROOT, site)}/\n\n`);
    const res = spawnSync(process.execPath, [BIN], { cwd: site, stdio: 'inherit' });
    const run = RunDir.latest(join(site, 'data'));
    if (!run) return res.status ?? 1;
    process.stdout.write(`\n--- ${relative(ROOT, run.file('overview.txt'))}\n${run.readOverview()}---\n`);
    const stored = await research.instances();
    process.stdout.write(`research PACS now holds ${stored.length} instances of ${new Set(stored.map((s) => s.studyInstanceUid)).size} studies\n`);
    if (stored.length) {
      process.stdout.write(`  staging:  ${header(fakeStudy(STUDIES[0])[0])}\n`);
      process.stdout.write(`  research: ${header(await research.instanceFile(stored[0].id))}\n`);
    }
    process.stdout.write(`\nexit code ${res.status} (3 = completed, but some studies were not moved: here the one missing from staging)\n`);
    process.stdout.write(`results: ${relative(ROOT, run.path)}/ (overview.txt, done.txt, to_production/, quarantine/, journal.jsonl)\n`);
    process.stdout.write(`identity map: ${relative(ROOT, join(site, 'identity.db'))}; try: sqlite3 ${relative(ROOT, join(site, 'identity.db'))} "select * from patient"\n`);
    return res.status === 3 ? 0 : res.status ?? 1;
  } finally {
    await peers.stop();
    process.stdout.write('demo: servers stopped\n');
  }
}

main().then((code) => (process.exitCode = code), (err: Error) => {
  process.stderr.write(`demo: ${err.message}\n`);
  process.exitCode = 1;
});

