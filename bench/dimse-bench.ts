/**
 * npm run bench:dimse — a benchmark, not a test. Synthetic CT files (CT_small with new UIDs) in a
 * staging Orthanc; alternating rounds (the order flips every round) of
 *   pull: our `dicom-pipeline pull` vs dcmtk movescu (one C-MOVE per study) into dcmtk storescp,
 *   push: our `dicom-pipeline push` vs dcmtk storescu into a research Orthanc (emptied before each).
 * Prints files/s, MB/s, peak RSS and the ratios ours/dcmtk, then flatness (does our throughput fall
 * as an association carries more files?):
 *   pull: one study alone (one C-MOVE sub-association): files/s over its first and last quarter, from
 *         the modification times of the files written (ours and storescp's);
 *   push: one association carrying 500 files vs all of them (--associations 1).
 * With TLS (default; --no-tls to skip): the same pull and push of ours over DICOM TLS, against a
 * second pair of Orthancs holding the same files with DicomTlsEnabled (their ports are TLS-only),
 * our SCP TLS-only; printed beside our plain figures (issue 8: TLS >= 0.8x plain).
 * Exits non-zero only when a tool failed, never because a target was missed.
 *
 *   node dist/bench/dimse-bench.js [--files 2000] [--rounds 3] [--studies 2] [--profile] ...
 *   (every option also as an environment variable, e.g. BENCH_FILES=500; --help lists them)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCa, type TestCa } from '../test/helpers/certs';
import { Orthanc } from '../test/helpers/orthanc';
import { freePort } from '../test/helpers/ports';
import { stopChild, track } from '../test/helpers/processes';
import { writeSyntheticStudies } from '../test/helpers/synthetic';
import { readCommandLine } from './lib/args';
import { attribute, fn, TOP_SELF_COLUMNS, topSelfRows, type Category, type CpuProfile } from './lib/cpu-profile';
import { makeTempDir } from './lib/fs';
import { describeFailure, GNU_TIME_HINT, hasGnuTime, runMeasured, type RunResult } from './lib/process';
import { median, rate, ratio, summarize } from './lib/stats';
import { formatTable, type Cell } from './lib/table';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'dicom-pipeline.js');
const FIXTURE = join(ROOT, 'fixtures', 'ts', 'CT_small.dcm');
const MB = 1e6;
const TARGET_RSS_MB = 300;
const ENV = { ...process.env, TCP_NODELAY: '1', DICOM_PIPELINE_LOG_LEVEL: 'error', CI: '1' };

const SPECS = {
  files: { default: 2000, help: 'files in the staging Orthanc' },
  studies: { default: 2, help: 'studies they are spread over (one series each); each is one C-MOVE' },
  rounds: { default: 3, help: 'alternating rounds of each tool' },
  flatness: { default: true, help: 'flatness runs: pull of one study alone, push over one association of 500 files (at most a quarter) vs all (--no-flatness to skip)' },
  tls: { default: true, help: 'also pull and push (ours) over DICOM TLS against TLS-only Orthancs holding the same files (--no-tls to skip)' },
  profile: { default: false, help: 'also run our pull once under node --cpu-prof and print where the time goes' },
  keep: { default: false, help: 'keep the temp directory' },
};

type Tool = 'pull ours' | 'pull dcmtk' | 'push ours' | 'push dcmtk' | 'pull ours tls' | 'push ours tls';

interface Sample {
  readonly tool: Tool;
  readonly round: number;
  readonly seconds: number;
  readonly peakRssMb: number;
}

class BenchError extends Error {}
function fail(message: string): never {
  throw new BenchError(message);
}
const say = (line = ''): void => void process.stdout.write(line + '\n');

interface Setup {
  readonly work: string;
  readonly source: string;
  readonly files: number;
  readonly megabytes: number;
  readonly studies: readonly string[];
  readonly staging: Orthanc;
  readonly research: Orthanc;
  readonly ourPort: number;
  readonly dcmtkPort: number;
  /** TLS-only Orthancs holding the same files, and our --tls-* flags. */
  readonly tls?: { readonly staging: Orthanc; readonly research: Orthanc; readonly flags: readonly string[] };
}

/** The TLS pair: a throwaway CA, one certificate for both Orthancs, one for us. */
async function startTlsPeers(ca: TestCa, ourPort: number): Promise<NonNullable<Setup['tls']>> {
  const server = { ...ca.issue('orthanc'), ca: ca.cert };
  const ours = ca.issue('pipeline');
  const pipe = { aeTitle: 'PIPE', host: '127.0.0.1', port: ourPort, tls: true };
  const [staging, research] = await Promise.all([
    Orthanc.start({ aeTitle: 'STAGING', modalities: { pipe }, tls: server }),
    Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipe }, tls: server }),
  ]);
  return { staging, research, flags: ['--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', ca.cert] };
}

/** Flushes the previous run's writes and deletions, so that they are not charged to the next run. */
function settle(): void {
  spawnSync('sync');
}

function check(name: string, run: RunResult): RunResult {
  if (run.exitCode !== 0) fail(describeFailure(name, run));
  return run;
}

/** Files written (ours: <Study>/<Series>/<SOP>.dcm; storescp: one flat directory); temp files are hidden. */
function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).length;
}

async function pullOurs(s: Setup, out: string, nodeFlags: string[] = [], studies = s.studies, tls = false): Promise<RunResult> {
  settle();
  const staging = tls ? s.tls!.staging : s.staging;
  const run = check(tls ? 'our pull over TLS' : 'our pull', await runMeasured({
    command: process.execPath,
    args: [...nodeFlags, CLI, 'pull', staging.address, ...studies, '--out', out, '--aet', 'PIPE', '--port', String(s.ourPort), ...(tls ? s.tls!.flags : [])],
    env: ENV,
  }));
  const got = countFiles(out);
  const expected = (s.files / s.studies.length) * studies.length;
  if (got !== expected) fail(`our pull wrote ${got} of ${expected} files`);
  return run;
}

/** movescu per study (as ours: one C-MOVE each) into a storescp started beforehand (not timed). */
async function pullDcmtk(s: Setup, out: string, studies = s.studies): Promise<{ seconds: number }> {
  mkdirSync(out, { recursive: true });
  settle();
  const storescp = spawn('storescp', ['-aet', 'DCMTK', '-od', out, String(s.dcmtkPort)], { env: ENV, stdio: 'ignore' });
  track(storescp);
  try {
    for (let i = 0; ; i++) {
      const echo = await runMeasured({ command: 'echoscu', args: ['-aec', 'DCMTK', '127.0.0.1', String(s.dcmtkPort)], env: ENV }, 'proc-poll');
      if (echo.exitCode === 0) break;
      if (i > 100) fail('storescp did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    let seconds = 0;
    for (const study of studies) {
      const run = check('movescu', await runMeasured({
        command: 'movescu',
        args: ['-S', '-aet', 'DCMTK', '-aem', 'DCMTK', '-aec', 'STAGING', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, '127.0.0.1', String(s.staging.dicomPort)],
        env: ENV,
      }, 'proc-poll'));
      seconds += run.seconds;
    }
    const got = countFiles(out);
    const expected = (s.files / s.studies.length) * studies.length;
    if (got !== expected) fail(`storescp wrote ${got} of ${expected} files`);
    return { seconds };
  } finally {
    await stopChild(storescp);
  }
}

async function pushOurs(s: Setup, extra: string[] = [], tls = false): Promise<RunResult> {
  const research = tls ? s.tls!.research : s.research;
  await research.clear();
  settle();
  const args = [CLI, 'push', research.address, s.source, '--aet', 'PIPE', ...extra, ...(tls ? s.tls!.flags : [])];
  const run = check(tls ? 'our push over TLS' : 'our push', await runMeasured({ command: process.execPath, args, env: ENV }));
  if (!new RegExp(`stored:\\s+${s.files}\\b`).test(run.stdout)) fail(`our push did not store every file:\n${run.stdout.slice(-600)}`);
  return run;
}

async function pushDcmtk(s: Setup): Promise<RunResult> {
  await s.research.clear();
  settle();
  return check('storescu', await runMeasured({ command: 'storescu', args: ['-aet', 'PIPE', '-aec', 'RESEARCH', '+sd', '+r', '127.0.0.1', String(s.research.dicomPort), s.source], env: ENV }));
}

/** files/s over the first and the last quarter of one association's files, from their modification times. */
export function quarterRates(mtimesMs: readonly number[]): { first: number; last: number } {
  const t = [...mtimesMs].sort((a, b) => a - b);
  const q = Math.floor(t.length / 4);
  if (q < 2) return { first: NaN, last: NaN };
  return { first: rate(q, (t[q] - t[0]) / 1000), last: rate(q, (t[t.length - 1] - t[t.length - 1 - q]) / 1000) };
}

/** Ours: one directory per study (= one C-MOVE sub-association). */
function oursByAssociation(out: string): number[][] {
  return readdirSync(out).map((study) =>
    readdirSync(join(out, study), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.dcm'))
      .map((e) => statSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).mtimeMs),
  );
}

/** storescp: one flat directory; the studies were moved one after the other, so consecutive runs of files. */
function dcmtkByAssociation(out: string, studies: number): number[][] {
  // (with one study: the whole directory)
  const t = readdirSync(out).map((n) => statSync(join(out, n)).mtimeMs).sort((a, b) => a - b);
  const per = Math.ceil(t.length / studies);
  return Array.from({ length: studies }, (_, i) => t.slice(i * per, (i + 1) * per));
}

const PROFILE_STEPS: Category[] = [
  { name: 'module loading / start-up', match: (f) => /^Module\._(load|compile)$/.test(f.functionName) },
  { name: 'store: fsync of the file', match: fn('fsyncSync') },
  { name: 'store: create temp file', match: fn('openSync') },
  { name: 'store: write, close, rename', match: (f) => ['writevSync', 'closeSync', 'renameSync'].includes(f.functionName) },
  { name: 'store: directory fsyncs (batched)', match: fn('fsyncDirectory') },
  { name: 'store: routing (parse UIDs), meta header', match: (f) => f.url.includes('scp/store') },
  { name: 'DIMSE: PDUs, commands (ours)', match: (f) => /dicom\/dimse-(pdata|command|scp|association|lib)/.test(f.url) },
  { name: 'dcmjs-dimse (association PDUs)', match: (f) => f.url.includes('dcmjs-dimse') },
  { name: 'socket writes (responses)', match: (f) => f.functionName === 'writeBuffer' || f.functionName === 'writeBuffers' || f.functionName === 'writevGeneric' },
  { name: 'C-FIND identifiers', match: fn('identifierOf') },
  { name: '(garbage collector)', match: fn('(garbage collector)') },
  { name: '(program: native, not attributed)', match: fn('(program)') },
  { name: '(idle: waiting for the peer)', match: fn('(idle)') },
];

async function profilePull(s: Setup): Promise<void> {
  const profDir = join(s.work, 'cpuprof');
  const out = join(s.work, 'pull-profiled');
  const run = await pullOurs(s, out, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) fail('node --cpu-prof wrote no profile');
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
  say();
  say(`Profile: our pull of ${s.files} files under --cpu-prof: ${run.seconds.toFixed(2)} s (${rate(s.files, run.seconds).toFixed(0)} files/s)`);
  say(formatTable(
    [{ header: 'where' }, { header: 'seconds', decimals: 2 }, { header: 'share %', decimals: 1 }, { header: 'us/file', decimals: 0 }],
    attribute(profile, PROFILE_STEPS, 'other (event loop, glue)').map((x) => [x.name, x.micros / 1e6, x.share * 100, x.micros / s.files]),
  ));
  say('Top functions by self time:');
  say(formatTable(TOP_SELF_COLUMNS, topSelfRows(profile, 12)));
  rmSync(out, { recursive: true, force: true });
}

function fmt(n: number, decimals = 2): string {
  return Number.isFinite(n) ? n.toFixed(decimals) : 'n/a';
}

async function main(): Promise<void> {
  const opts = readCommandLine(SPECS, 'dimse-bench.js');
  if (!opts) return;
  if (!Number.isInteger(opts.files) || !Number.isInteger(opts.studies) || opts.studies < 1 || opts.files < opts.studies * 8) fail('--files must be at least 8 per study');
  const temp = makeTempDir('dimse-bench-');
  const work = temp.dir;
  const perStudy = Math.floor(opts.files / opts.studies);
  const files = writeSyntheticStudies(FIXTURE, join(work, 'source'), { studies: opts.studies, seriesPerStudy: 1, instancesPerSeries: perStudy });
  const megabytes = files.reduce((sum, f) => sum + statSync(f.path).size, 0) / MB;
  const ourPort = await freePort();
  const dcmtkPort = await freePort();
  const staging = await Orthanc.start({
    aeTitle: 'STAGING',
    modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: ourPort }, dcmtk: { aeTitle: 'DCMTK', host: '127.0.0.1', port: dcmtkPort } },
  });
  const research = await Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: ourPort } } });
  const ca = opts.tls ? makeCa('Bench CA') : undefined;
  const s: Setup = {
    work, source: join(work, 'source'), files: files.length, megabytes, studies: [...new Set(files.map((f) => f.studyInstanceUid))], staging, research, ourPort, dcmtkPort,
    tls: ca && (await startTlsPeers(ca, ourPort)),
  };
  const samples: Sample[] = [];
  const flatPull = { oursFirst: [] as number[], oursLast: [] as number[], dcmtkFirst: [] as number[], dcmtkLast: [] as number[] };
  try {
    say(`dimse-bench: ${s.files} synthetic CT files (${megabytes.toFixed(1)} MB) in ${s.studies.length} studies of ${perStudy}; ${opts.rounds} alternating rounds; ` +
      `node ${process.version}; ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
    if (!hasGnuTime()) say(`note: ${GNU_TIME_HINT}`);
    for (const orthanc of [staging, ...(s.tls ? [s.tls.staging] : [])]) {
      for (let i = 0; i < files.length; i += 8) await Promise.all(files.slice(i, i + 8).map((f) => orthanc.upload(f.path)));
    }
    // Untimed warm-up: Orthanc's caches, the page cache, our start-up files.
    rmSync(join(work, 'warm'), { recursive: true, force: true });
    await pullOurs(s, join(work, 'warm'));
    rmSync(join(work, 'warm'), { recursive: true, force: true });
    if (s.tls) {
      await pullOurs(s, join(work, 'warm'), [], s.studies, true);
      rmSync(join(work, 'warm'), { recursive: true, force: true });
    }

    for (let round = 1; round <= opts.rounds; round++) {
      const oursFirst = round % 2 === 1;
      const ourOut = join(work, `pull-ours-${round}`);
      const dcmtkOut = join(work, `pull-dcmtk-${round}`);
      const tlsOut = join(work, `pull-tls-${round}`);
      const pulls: Array<() => Promise<void>> = [
        async () => {
          const r = await pullOurs(s, ourOut);
          samples.push({ tool: 'pull ours', round, seconds: r.seconds, peakRssMb: r.peakRssBytes / MB });
        },
        async () => {
          const r = await pullDcmtk(s, dcmtkOut);
          samples.push({ tool: 'pull dcmtk', round, seconds: r.seconds, peakRssMb: NaN });
        },
        ...(s.tls ? [async () => {
          const r = await pullOurs(s, tlsOut, [], s.studies, true);
          samples.push({ tool: 'pull ours tls', round, seconds: r.seconds, peakRssMb: r.peakRssBytes / MB });
        }] : []),
      ];
      for (const p of oursFirst ? pulls : [...pulls].reverse()) await p();
      rmSync(ourOut, { recursive: true, force: true });
      rmSync(dcmtkOut, { recursive: true, force: true });
      rmSync(tlsOut, { recursive: true, force: true });

      const pushes: Array<() => Promise<void>> = [
        async () => {
          const r = await pushOurs(s);
          samples.push({ tool: 'push ours', round, seconds: r.seconds, peakRssMb: r.peakRssBytes / MB });
        },
        async () => {
          const r = await pushDcmtk(s);
          samples.push({ tool: 'push dcmtk', round, seconds: r.seconds, peakRssMb: r.peakRssBytes / MB });
        },
        ...(s.tls ? [async () => {
          const r = await pushOurs(s, [], true);
          samples.push({ tool: 'push ours tls', round, seconds: r.seconds, peakRssMb: r.peakRssBytes / MB });
        }] : []),
      ];
      for (const p of oursFirst ? pushes : [...pushes].reverse()) await p();
      const line = (tool: Tool): string => {
        const x = samples.find((y) => y.tool === tool && y.round === round)!;
        return `${tool} ${rate(s.files, x.seconds).toFixed(0).padStart(5)} files/s`;
      };
      const tlsLines = s.tls ? ` | ${line('pull ours tls')} | ${line('push ours tls')}` : '';
      say(`round ${round}: ${line('pull ours')} | ${line('pull dcmtk')} | ${line('push ours')} | ${line('push dcmtk')}${tlsLines}`);
    }

    // Pull flatness: one study at a time (one C-MOVE, one sub-association, nothing else running),
    // files/s over its first and last quarter from the files' modification times; alternating, twice each.
    const flatPush = new Map<number, number[]>();
    if (opts.flatness) {
      for (let i = 0; i < 2; i++) {
        const ourOut = join(work, `flat-ours-${i}`);
        const dcmtkOut = join(work, `flat-dcmtk-${i}`);
        const runs = [
          async () => {
            await pullOurs(s, ourOut, [], [s.studies[0]]);
            for (const times of oursByAssociation(ourOut)) {
              const q = quarterRates(times);
              flatPull.oursFirst.push(q.first);
              flatPull.oursLast.push(q.last);
            }
          },
          async () => {
            await pullDcmtk(s, dcmtkOut, [s.studies[0]]);
            for (const times of dcmtkByAssociation(dcmtkOut, 1)) {
              const q = quarterRates(times);
              flatPull.dcmtkFirst.push(q.first);
              flatPull.dcmtkLast.push(q.last);
            }
          },
        ];
        for (const r of i % 2 ? [...runs].reverse() : runs) await r();
        rmSync(ourOut, { recursive: true, force: true });
        rmSync(dcmtkOut, { recursive: true, force: true });
      }
      // Push flatness: one association carrying 500 files vs all of them; alternating, twice each.
      const sizes = [Math.min(500, Math.floor(s.files / 4)), s.files];
      for (let i = 0; i < 2; i++) {
        for (const n of i % 2 ? [...sizes].reverse() : sizes) {
          const r = await pushOurs(s, ['--associations', '1', '--requests-per-association', String(n)]);
          flatPush.set(n, [...(flatPush.get(n) ?? []), rate(s.files, r.seconds)]);
        }
      }
      await research.clear();
    }

    say();
    say(formatTable(
      [{ header: 'tool' }, { header: 'round' }, { header: 'seconds', decimals: 2 }, { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 }, { header: 'peak RSS MB', decimals: 0 }],
      samples.map((x): Cell[] => [x.tool, x.round, x.seconds, rate(s.files, x.seconds), rate(megabytes, x.seconds), x.peakRssMb]),
    ));
    const stat = (tool: Tool) => summarize(samples.filter((x) => x.tool === tool).map((x) => rate(s.files, x.seconds)));
    const tools: Tool[] = ['pull ours', 'pull dcmtk', 'push ours', 'push dcmtk', ...(s.tls ? (['pull ours tls', 'push ours tls'] as Tool[]) : [])];
    say();
    say('Medians:');
    say(formatTable(
      [{ header: 'tool' }, { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 }, { header: 'min', decimals: 0 }, { header: 'max', decimals: 0 }, { header: 'spread %', decimals: 0 }],
      tools.map((t) => {
        const x = stat(t);
        return [t, x.median, (x.median * megabytes) / s.files, x.min, x.max, x.spread * 100];
      }),
    ));
    const pullRatio = ratio(stat('pull ours').median, stat('pull dcmtk').median);
    const pushRatio = ratio(stat('push ours').median, stat('push dcmtk').median);
    const rss = Math.max(...samples.filter((x) => x.tool.endsWith('ours')).map((x) => x.peakRssMb));
    const perRound = (a: Tool, b: Tool): string =>
      samples.filter((x) => x.tool === a).map((x) => fmt(ratio(samples.find((y) => y.tool === b && y.round === x.round)!.seconds, x.seconds))).join(' ');

    say();
    const ourFlat = ratio(median(flatPull.oursLast), median(flatPull.oursFirst));
    if (opts.flatness) {
      say(`Flatness, pull of one study (one ${perStudy}-file C-MOVE sub-association; files/s over its first vs last quarter, medians of 2 runs):`);
      say(`  ours  first ${fmt(median(flatPull.oursFirst), 0)}, last ${fmt(median(flatPull.oursLast), 0)}: last/first ${fmt(ourFlat)}`);
      say(`  dcmtk first ${fmt(median(flatPull.dcmtkFirst), 0)}, last ${fmt(median(flatPull.dcmtkLast), 0)}: last/first ${fmt(ratio(median(flatPull.dcmtkLast), median(flatPull.dcmtkFirst)))}`);
    }
    let pushFlat = NaN;
    if (flatPush.size) {
      const [small, large] = [...flatPush.keys()].sort((a, b) => a - b);
      pushFlat = ratio(median(flatPush.get(large)!), median(flatPush.get(small)!));
      say(`Flatness, push (ours, --associations 1): ${small} files per association ${fmt(median(flatPush.get(small)!), 0)} files/s, ` +
        `${large} per association ${fmt(median(flatPush.get(large)!), 0)} files/s: ${large}/${small} ${fmt(pushFlat)}`);
    }
    say();
    say(`pull: ours ${fmt(stat('pull ours').median, 0)} files/s vs dcmtk movescu+storescp ${fmt(stat('pull dcmtk').median, 0)}: ratio ${fmt(pullRatio)} (per round ${perRound('pull ours', 'pull dcmtk')})`);
    say(`push: ours ${fmt(stat('push ours').median, 0)} files/s vs dcmtk storescu ${fmt(stat('push dcmtk').median, 0)}: ratio ${fmt(pushRatio)} (per round ${perRound('push ours', 'push dcmtk')})`);
    const tlsPull = s.tls ? ratio(stat('pull ours tls').median, stat('pull ours').median) : NaN;
    const tlsPush = s.tls ? ratio(stat('push ours tls').median, stat('push ours').median) : NaN;
    if (s.tls) {
      say(`TLS pull: ours over TLS ${fmt(stat('pull ours tls').median, 0)} files/s vs ours plain ${fmt(stat('pull ours').median, 0)}: ratio ${fmt(tlsPull)} (per round ${perRound('pull ours tls', 'pull ours')})`);
      say(`TLS push: ours over TLS ${fmt(stat('push ours tls').median, 0)} files/s vs ours plain ${fmt(stat('push ours').median, 0)}: ratio ${fmt(tlsPush)} (per round ${perRound('push ours tls', 'push ours')})`);
    }
    const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    say('Targets (issue 3):');
    say(`  pull ratio >= 1.0: ${fmt(pullRatio)} ${met(pullRatio >= 1)}; push ratio >= 1.0: ${fmt(pushRatio)} ${met(pushRatio >= 1)}`);
    say(`  peak RSS < ${TARGET_RSS_MB} MB (worst of our runs): ${fmt(rss, 0)} MB ${met(rss < TARGET_RSS_MB)}`);
    if (s.tls) say(`  TLS >= 0.8x our plain throughput (issue 8): pull ${fmt(tlsPull)} ${met(tlsPull >= 0.8)}, push ${fmt(tlsPush)} ${met(tlsPush >= 0.8)}`);
    if (opts.flatness) say(`  flat as files per association grow (last/first or large/small >= 0.9): pull ${fmt(ourFlat)} ${met(ourFlat >= 0.9)}, push ${fmt(pushFlat)} ${met(pushFlat >= 0.9)}`);
    say(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine makes the figures noisy: compare medians)`);
    say('Seconds are whole processes (start-up included). Our pull includes its C-FIND reconciliation, an fsync of every file before');
    say('answering Success, and moves the studies 2 at a time (network.associations); storescp does not fsync; movescu moves one');
    say('study after the other. Our push confirms with C-FIND and uses 2 associations; storescu 1. Push is bound by Orthanc\'s ingest.');
    if (opts.profile) await profilePull(s);
  } finally {
    await Promise.all([staging.stop(), research.stop(), s.tls?.staging.stop(), s.tls?.research.stop()]);
    ca?.remove();
    if (opts.keep) say(`kept: ${work}`);
    else temp.remove();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`dimse-bench: ${err instanceof BenchError ? err.message : err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
