/**
 * npm run bench:dimse — a benchmark, not a test. 2,000 synthetic CT files (CT_small with new UIDs)
 * in a staging Orthanc; alternating rounds of
 *   pull: our `dicom-pipeline pull` vs dcmtk movescu into dcmtk storescp,
 *   push: our `dicom-pipeline push` vs dcmtk storescu into a research Orthanc (emptied between rounds).
 * Prints files/s, MB/s, our peak RSS (VmHWM polled from /proc) and the ratios ours/dcmtk (>= 1.0 is
 * at least as fast). Env: BENCH_FILES (2000), BENCH_ROUNDS (3).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Orthanc } from '../test/helpers/orthanc';
import { freePort } from '../test/helpers/ports';
import { stopChild, track } from '../test/helpers/processes';
import { writeSyntheticStudies } from '../test/helpers/synthetic';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'dicom-pipeline.js');
const FILES = Number(process.env.BENCH_FILES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STUDIES = 2;

interface Timed {
  readonly seconds: number;
  readonly peakRssMb?: number;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs a command; for our CLI also polls /proc/<pid>/status for VmHWM (peak resident set). */
function timed(command: string, args: readonly string[], pollRss: boolean): Promise<Timed> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...process.env, TCP_NODELAY: '1', DICOM_PIPELINE_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'pipe'] });
    track(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peakKb = 0;
    const poll = pollRss
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKb = Math.max(peakKb, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20)
      : undefined;
    child.once('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ seconds, peakRssMb: pollRss ? peakKb / 1024 : undefined, code, stderr });
    });
  });
}

async function waitForStorescp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await timed('echoscu', ['-aec', 'DCMTK', '127.0.0.1', String(port)], false);
    if (r.code === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('storescp did not start');
}

function check(label: string, r: Timed): void {
  if (r.code !== 0) throw new Error(`${label} failed (exit ${r.code}): ${r.stderr.slice(-800)}`);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dimse-bench-'));
  const template = join(ROOT, 'fixtures', 'ts', 'CT_small.dcm');
  const files = writeSyntheticStudies(template, join(work, 'source'), { studies: STUDIES, seriesPerStudy: 1, instancesPerSeries: FILES / STUDIES });
  const megabytes = files.reduce((sum, f) => sum + statSync(f.path).size, 0) / 1e6;
  const studies = [...new Set(files.map((f) => f.studyInstanceUid))];
  const ourPort = await freePort();
  const dcmtkPort = await freePort();
  const staging = await Orthanc.start({
    aeTitle: 'STAGING',
    modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: ourPort }, dcmtk: { aeTitle: 'DCMTK', host: '127.0.0.1', port: dcmtkPort } },
  });
  const research = await Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: ourPort } } });
  const results = { ourPull: [] as number[], dcmtkPull: [] as number[], ourPush: [] as number[], dcmtkPush: [] as number[], rss: [] as number[] };
  try {
    process.stdout.write(`loading ${files.length} files (${megabytes.toFixed(1)} MB) into the staging Orthanc...\n`);
    for (let i = 0; i < files.length; i += 8) await Promise.all(files.slice(i, i + 8).map((f) => staging.upload(f.path)));

    for (let round = 1; round <= ROUNDS; round++) {
      // pull: ours
      const ourOut = join(work, `pull-ours-${round}`);
      const ours = await timed(process.execPath, [CLI, 'pull', staging.address, ...studies, '--out', ourOut, '--aet', 'PIPE', '--port', String(ourPort)], true);
      check('our pull', ours);
      // pull: dcmtk movescu into storescp (one C-MOVE per study, like ours)
      const dcmtkOut = join(work, `pull-dcmtk-${round}`);
      mkdirSync(dcmtkOut);
      const storescp = spawn('storescp', ['-aet', 'DCMTK', '-od', dcmtkOut, String(dcmtkPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
      track(storescp);
      await waitForStorescp(dcmtkPort);
      const started = process.hrtime.bigint();
      for (const study of studies) {
        check('movescu', await timed('movescu', ['-S', '-aet', 'DCMTK', '-aem', 'DCMTK', '-aec', 'STAGING', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, '127.0.0.1', String(staging.dicomPort)], false));
      }
      const dcmtkPull = Number(process.hrtime.bigint() - started) / 1e9;
      await stopChild(storescp);

      // push: ours, then dcmtk storescu, into an emptied research Orthanc
      await research.clear();
      const ourPush = await timed(process.execPath, [CLI, 'push', research.address, join(work, 'source'), '--aet', 'PIPE'], true);
      check('our push', ourPush);
      await research.clear();
      const dcmtkPush = await timed('storescu', ['-aet', 'PIPE', '-aec', 'RESEARCH', '+sd', '+r', '127.0.0.1', String(research.dicomPort), join(work, 'source')], false);
      check('storescu', dcmtkPush);
      await research.clear();

      results.ourPull.push(ours.seconds);
      results.dcmtkPull.push(dcmtkPull);
      results.ourPush.push(ourPush.seconds);
      results.dcmtkPush.push(dcmtkPush.seconds);
      results.rss.push(ours.peakRssMb ?? 0, ourPush.peakRssMb ?? 0);
      const line = (name: string, s: number): string => `${name} ${(files.length / s).toFixed(0).padStart(5)} files/s ${(megabytes / s).toFixed(1).padStart(6)} MB/s`;
      process.stdout.write(
        `round ${round}: ${line('pull ours', ours.seconds)} (peak RSS ${ours.peakRssMb?.toFixed(0)} MB) | ${line('dcmtk', dcmtkPull)}\n` +
          `         ${line('push ours', ourPush.seconds)} (peak RSS ${ourPush.peakRssMb?.toFixed(0)} MB) | ${line('dcmtk', dcmtkPush.seconds)}\n`,
      );
      rmSync(ourOut, { recursive: true, force: true });
      rmSync(dcmtkOut, { recursive: true, force: true });
    }
    const rate = (s: number[]): number => files.length / median(s);
    process.stdout.write(
      `\nmedians over ${ROUNDS} rounds, ${files.length} files, ${megabytes.toFixed(1)} MB:\n` +
        `  pull: ours ${rate(results.ourPull).toFixed(0)} files/s (${(megabytes / median(results.ourPull)).toFixed(1)} MB/s), dcmtk movescu+storescp ${rate(results.dcmtkPull).toFixed(0)} files/s, ratio ${(median(results.dcmtkPull) / median(results.ourPull)).toFixed(2)}\n` +
        `  push: ours ${rate(results.ourPush).toFixed(0)} files/s (${(megabytes / median(results.ourPush)).toFixed(1)} MB/s), dcmtk storescu ${rate(results.dcmtkPush).toFixed(0)} files/s, ratio ${(median(results.dcmtkPush) / median(results.ourPush)).toFixed(2)}\n` +
        `  our peak RSS: ${Math.max(...results.rss).toFixed(0)} MB (target < 300 MB)\n` +
        `  (our pull includes C-FIND reconciliation and fsync of every file; our push includes C-FIND confirmation)\n`,
    );
  } finally {
    await Promise.all([staging.stop(), research.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
