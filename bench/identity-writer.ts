/**
 * One writer of bench:identity, in its own thread as the anonymizer's workers are: its own store,
 * batches of 16 instances (one identity transaction each, two in flight as in the anonymizer's
 * pool), the questions de-identification asks of each instance. Waits for 'go', answers { seconds, rssMb? } when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openIdentityStore } from '../src/anon/identity/open-store';
import type { Identity } from '../src/anon/identity/pseudonyms';

export interface WriterJob {
  readonly target: string;
  readonly keyFile: string;
  /** Instances [first, first + count) of the synthetic run. */
  readonly first: number;
  readonly count: number;
  /** Post progress every this many instances (0: never). */
  readonly reportEvery: number;
}

export const BATCH = 16;
const PER_SERIES = 100;
const PER_STUDY = 300;
const STUDIES_PER_PATIENT = 3;

/** What de-identifying instance i asks: 4 UIDs (3 with roles), a patient, an accession number, a link. */
export function askFor(id: Identity, i: number): void {
  const study = Math.floor(i / PER_STUDY);
  const series = Math.floor(i / PER_SERIES);
  const studyUid = `1.2.826.0.1.3680043.10.500.${study}`;
  const seriesUid = `${studyUid}.${series}`;
  const sopUid = `${seriesUid}.${i}`;
  const patient = id.patient(`BENCH${Math.floor(study / STUDIES_PER_PATIENT)}`, '', 'Benchmark');
  const cleanedStudy = id.uid(studyUid);
  id.uid(seriesUid);
  id.uid(sopUid);
  id.uid(`${studyUid}.999`); // Frame of Reference
  id.recordRole(studyUid, 'studyuid');
  id.recordRole(seriesUid, 'seriesuid');
  id.recordRole(sopUid, 'sopinstanceuid');
  id.value('accession_no', `ACC${study}`);
  id.linkStudy(cleanedStudy, patient.id);
}

async function main(): Promise<void> {
  const job = workerData as WriterJob;
  const store = await openIdentityStore(job.target, { keyFile: job.keyFile, dicomRoot: '1.2.826.0.1.3680043.10.99' });
  const port = parentPort!;
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  const started = process.hrtime.bigint();
  const end = job.first + job.count;
  let next = job.first;
  let done = 0;
  // Two batches in flight, as the anonymizer's pool keeps per worker.
  const lane = async (): Promise<void> => {
    while (next < end) {
      const i = next;
      const last = Math.min(end, i + BATCH);
      next = last;
      await store.batch((id) => {
        for (let n = i; n < last; n++) askFor(id, n);
      });
      const before = done;
      done += last - i;
      if (job.reportEvery && Math.floor(done / job.reportEvery) > Math.floor(before / job.reportEvery)) port.postMessage({ progress: done });
    }
  };
  await Promise.all([lane(), lane()]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  port.postMessage({ seconds });
}

void main().catch((err: Error) => parentPort!.postMessage({ error: err.message }));
