/**
 * npm run bench:web — a benchmark, not a test. Synthetic CT files pushed into one Orthanc (with the
 * orthanc-dicomweb plugin and HTTP Basic authentication) three ways, in alternating rounds (the order
 * turns every round), the archive emptied before each run:
 *   push STOW-RS:  our `dicom-pipeline push http://.../dicom-web DIR`, confirmed by QIDO-RS (auto),
 *   push C-STORE:  our `dicom-pipeline push AE@host:port DIR`, confirmed by C-FIND (auto: Orthanc
 *                  refuses our storage commitment, which has no port here),
 *   both again with --confirm none (the transfer alone),
 *   storescu:      dcmtk's storescu, the reference C-STORE client (no confirmation).
 * Prints files/s, MB/s, peak RSS and the ratios STOW-RS / our C-STORE, with and without their
 * confirmations (goal: at least 1.0).
 * Exits non-zero only when a tool failed, never because a target was missed.
 *
 *   node dist/bench/web-bench.js [--files 2000] [--rounds 3] [--files-per-request 50] [--parallel 2]
 *   (every option also as an environment variable, e.g. BENCH_FILES=500; --help lists them)
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { startWebOrthanc, WEB_USER, type WebOrthanc } from '../test/helpers/orthanc-web';
import { writeSyntheticStudies } from '../test/helpers/synthetic';
import { readCommandLine } from './lib/args';
import { makeTempDir } from './lib/fs';
import { describeFailure, GNU_TIME_HINT, hasGnuTime, runMeasured, type RunResult } from './lib/process';
import { median, rate, ratio } from './lib/stats';
import { formatTable } from './lib/table';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'dicom-pipeline.js');
const FIXTURE = join(ROOT, 'fixtures', 'ts', 'CT_small.dcm');
const ENV = { ...process.env, TCP_NODELAY: '1', DICOM_PIPELINE_LOG_LEVEL: 'error', CI: '1' };
const TARGET_RATIO = 1.0;

const SPECS = {
  files: { default: 2000, help: 'files pushed per run (2 studies)' },
  rounds: { default: 3, help: 'alternating rounds of each way' },
  filesPerRequest: { default: 50, help: 'instances per STOW-RS request' },
  parallel: { default: 2, help: 'STOW-RS requests in flight, and C-STORE associations' },
  keep: { default: false, help: 'keep the temp directory' },
};

type Way = 'STOW-RS + QIDO-RS (ours)' | 'C-STORE + C-FIND (ours)' | 'STOW-RS, confirm none' | 'C-STORE, confirm none' | 'storescu (dcmtk)';
const WAYS: readonly Way[] = ['STOW-RS + QIDO-RS (ours)', 'C-STORE + C-FIND (ours)', 'STOW-RS, confirm none', 'C-STORE, confirm none', 'storescu (dcmtk)'];

const say = (line = ''): void => void process.stdout.write(line + '\n');

function check(name: string, run: RunResult, files: number, confirmed: boolean): RunResult {
  if (run.exitCode !== 0) throw new Error(describeFailure(name, run));
  if (!new RegExp(`^stored: ${files}\\b`, 'm').test(run.stdout) && name !== 'storescu (dcmtk)') throw new Error(`${name} did not store every file:\n${run.stdout.slice(-600)}`);
  if (confirmed && !new RegExp(`^confirmed: ${files} `, 'm').test(run.stdout)) throw new Error(`${name} did not confirm every file:\n${run.stdout.slice(-600)}`);
  return run;
}

async function runWay(way: Way, web: WebOrthanc, source: string, files: number, opts: { filesPerRequest: number; parallel: number }): Promise<RunResult> {
  await web.orthanc.clear();
  spawnSync('sync');
  const parallel = ['--associations', String(opts.parallel)];
  const stow = [CLI, 'push', web.url, source, '--user', WEB_USER, '--password-file', web.passwordFile, '--files-per-request', String(opts.filesPerRequest), ...parallel];
  const cstore = [CLI, 'push', web.orthanc.address, source, '--aet', 'PIPE', ...parallel];
  switch (way) {
    case 'STOW-RS + QIDO-RS (ours)':
      return check(way, await runMeasured({ command: process.execPath, args: [...stow, '--confirm', 'find'], env: ENV }), files, true);
    case 'C-STORE + C-FIND (ours)':
      return check(way, await runMeasured({ command: process.execPath, args: [...cstore, '--confirm', 'find'], env: ENV }), files, true);
    case 'STOW-RS, confirm none':
      return check(way, await runMeasured({ command: process.execPath, args: [...stow, '--confirm', 'none'], env: ENV }), files, false);
    case 'C-STORE, confirm none':
      return check(way, await runMeasured({ command: process.execPath, args: [...cstore, '--confirm', 'none'], env: ENV }), files, false);
    case 'storescu (dcmtk)':
      return check(way, await runMeasured({ command: 'storescu', args: ['-aet', 'PIPE', '-aec', web.orthanc.aeTitle, '+sd', '+r', '127.0.0.1', String(web.orthanc.dicomPort), source], env: ENV }), files, false);
  }
}

async function main(): Promise<void> {
  const opts = readCommandLine(SPECS, 'web-bench.js');
  if (!opts) return;
  if (!Number.isInteger(opts.files) || opts.files < 16) throw new Error('--files must be an integer of at least 16');
  const temp = makeTempDir('web-bench-');
  const source = join(temp.dir, 'source');
  const files = writeSyntheticStudies(FIXTURE, source, { studies: 2, seriesPerStudy: 1, instancesPerSeries: Math.floor(opts.files / 2) });
  const megabytes = files.reduce((sum, f) => sum + statSync(f.path).size, 0) / 1e6;
  // Our AE must be known for the C-FIND that confirms the C-STORE push.
  const web = await startWebOrthanc({ aeTitle: 'RESEARCH', modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: 9 } } });
  const seconds = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  const rss = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  try {
    say(`web-bench: ${files.length} synthetic CT files (${megabytes.toFixed(1)} MB) in 2 studies into one Orthanc ${web.url}; ` +
      `${opts.rounds} alternating rounds; STOW-RS ${opts.filesPerRequest} files per request; ${opts.parallel} requests / associations at once; ` +
      `node ${process.version}; ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
    if (!hasGnuTime()) say(`note: ${GNU_TIME_HINT}`);
    for (const way of WAYS) await runWay(way, web, source, files.length, opts); // untimed warm-up
    for (let round = 0; round < opts.rounds; round++) {
      const order = WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]);
      for (const way of order) {
        const run = await runWay(way, web, source, files.length, opts);
        seconds.get(way)!.push(run.seconds);
        rss.get(way)!.push(run.peakRssBytes / 1e6);
      }
    }
    const rows = WAYS.map((way) => {
      const s = median(seconds.get(way)!);
      return [way, s, rate(files.length, s), rate(megabytes, s), median(rss.get(way)!)];
    });
    say(formatTable([{ header: 'way (median)' }, { header: 'seconds', decimals: 2 }, { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 }, { header: 'peak RSS MB', decimals: 0 }], rows));
    const rateOf = (way: Way): number => rate(files.length, median(seconds.get(way)!));
    const judged = (r: number): string => `${r.toFixed(2)}x (goal >= ${TARGET_RATIO.toFixed(1)}x: ${r >= TARGET_RATIO ? 'met' : 'NOT met'})`;
    say(`STOW-RS / our C-STORE push, each confirmed: ${judged(ratio(rateOf('STOW-RS + QIDO-RS (ours)'), rateOf('C-STORE + C-FIND (ours)')))}`);
    say(`STOW-RS / our C-STORE push, transfer alone (confirm none): ${judged(ratio(rateOf('STOW-RS, confirm none'), rateOf('C-STORE, confirm none')))}; STOW-RS / storescu: ${ratio(rateOf('STOW-RS, confirm none'), rateOf('storescu (dcmtk)')).toFixed(2)}x`);
    say(`rounds (s): ${WAYS.map((w) => `${w} ${seconds.get(w)!.map((x) => x.toFixed(2)).join(' ')}`).join('; ')}`);
  } finally {
    await web.stop();
    if (!opts.keep) temp.remove();
    else say(`kept ${temp.dir}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`web-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
