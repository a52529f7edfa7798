/**
 * npm run bench:anon: our `anonymize` against GDCM's `gdcmanon -e` on the same synthetic CT corpus,
 * as whole processes, in alternating rounds; then our throughput and peak RSS at several corpus
 * sizes (flatness). A benchmark, not a test: it prints figures and judges the issue's targets, and
 * exits non-zero only when a tool failed to run, never because a target was missed.
 *
 *   node dist/bench/anon-bench.js [--files 2000] [--rounds 3] [--flat-sizes 500,2000,4000] [--profile] ...
 *   (every option also as an environment variable, e.g. BENCH_FILES=500; --help lists them)
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { readCommandLine } from './lib/args';
import { defaultShape, generateCorpus, type Corpus } from './lib/corpus';
import { attribute, fn, TOP_SELF_COLUMNS, topSelfRows, type Category, type CpuProfile } from './lib/cpu-profile';
import { makeTempDir, treeStats } from './lib/fs';
import { describeFailure, findExecutable, GNU_TIME_HINT, hasGnuTime, runMeasured, type RunResult } from './lib/process';
import { rate, ratio, summarize } from './lib/stats';
import { formatTable, type Cell } from './lib/table';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'dicom-pipeline.js');
const FIXTURE = join(ROOT, 'fixtures', 'ts', 'CT_small.dcm');
const MB = 1e6;
const TARGET_RATIO = 1.0;
const TARGET_RSS_MB = 300;

const SPECS = {
  files: { default: 2000, help: 'files in the compared corpus' },
  rounds: { default: 3, help: 'alternating rounds of each tool' },
  workers: { default: 0, help: 'our --workers (0: the tool\'s default, one per core)' },
  warm: { default: true, help: 'also time ours re-running on a filled identity.db (--no-warm to skip)' },
  gdcm: { default: true, help: 'compare with gdcmanon (--no-gdcm to time ours only)' },
  flatSizes: { default: [500, 2000, 4000] as number[], help: 'corpus sizes for the flatness runs (empty to skip)' },
  safePrivate: { default: false, help: 'also time ours with profile.retainSafePrivate on (tool ours-private) and give its ratio' },
  profile: { default: false, help: 'also run ours once under node --cpu-prof with --workers 1 and print where the time goes' },
  seed: { default: 20240601, help: 'seed of the synthetic corpus' },
  keep: { default: false, help: 'keep the temp directory (corpus, outputs, profile)' },
  tmpDir: { default: '', help: 'where the corpus and outputs go (default: the OS temp dir; /dev/shm takes the disk out of the figures)' },
};

type Tool = 'ours' | 'ours-warm' | 'ours-private' | 'gdcmanon';

interface Sample {
  readonly tool: Tool;
  readonly round: number;
  readonly files: number;
  readonly bytes: number;
  readonly run: RunResult;
}

const notes: string[] = [];
const say = (line = ''): void => void process.stdout.write(line + '\n');

/** A reason the benchmark cannot go on (a tool failed, a prerequisite is missing): one line, then exit 1. */
class BenchError extends Error {}

function fail(message: string): never {
  throw new BenchError(message);
}

function sync(): void {
  spawnSync('sync'); // flush the previous run's writes so they are not charged to the next one
}

/** Runs our anonymize on input into a fresh output under dir; checks every file was anonymized or quarantined. */
async function runOurs(work: string, corpus: Corpus, dir: string, identityDb: string, workers: number, nodeFlags: string[] = [], config?: string): Promise<RunResult> {
  const args = [
    ...nodeFlags, BIN, 'anonymize', corpus.dir, join(dir, 'out'),
    '--identity', identityDb, '--quarantine', join(dir, 'quarantine'), '--allowed-modalities', 'MR,CT',
    ...(workers > 0 ? ['--workers', String(workers)] : []),
    ...(config ? ['--config', config] : []),
  ];
  // cwd is the bench's temp dir: no ./dicom-pipeline.json or ./dicom_limited_vocabulary.json of the checkout applies.
  const env = { ...process.env, DICOM_PIPELINE_KEY_FILE: join(work, 'hmac.key'), CI: '1' };
  sync();
  const run = await runMeasured({ command: process.execPath, args, cwd: work, env });
  if (run.exitCode !== 0) fail(describeFailure('dicom-pipeline anonymize', run));
  const anonymized = Number(/^anonymized:\s+(\d+)/m.exec(run.stdout)?.[1] ?? NaN);
  const quarantined = Number(/^quarantined:\s+(\d+)/m.exec(run.stdout)?.[1] ?? NaN);
  if (anonymized !== corpus.files) {
    const note = `ours anonymized ${anonymized} of ${corpus.files} (quarantined ${quarantined}): its rate counts files in, not files anonymized`;
    if (!notes.includes(note)) notes.push(note);
  }
  return run;
}

async function runGdcm(corpus: Corpus, dir: string, certificate: string): Promise<RunResult> {
  const out = join(dir, 'out');
  // -r matters: without it gdcmanon silently skips subdirectories and exits 0 having written nothing.
  const args = ['-e', '-r', '--continue', '-i', corpus.dir, '-o', out, '--certificate', certificate];
  mkdirSync(dir, { recursive: true });
  sync();
  const run = await runMeasured({ command: 'gdcmanon', args, cwd: dir });
  if (run.exitCode !== 0) fail(describeFailure('gdcmanon', run));
  const written = existsSync(out) ? treeStats(out).files : 0;
  if (written !== corpus.files) fail(`gdcmanon wrote ${written} of ${corpus.files} files; stderr: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return run;
}

function throwaway(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function sampleRow(s: Sample): Cell[] {
  return [s.tool, s.round, s.files, s.run.seconds, rate(s.files, s.run.seconds), rate(s.bytes / MB, s.run.seconds), s.run.peakRssBytes / MB];
}

const RUN_COLUMNS = [
  { header: 'tool' }, { header: 'round' }, { header: 'files' }, { header: 'seconds', decimals: 2 },
  { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 }, { header: 'peak RSS MB', decimals: 0 },
];

function met(ok: boolean | undefined): string {
  return ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met';
}

/** Where our time goes: the run under --cpu-prof, split by pipeline step (innermost step on the stack wins). */
const PROFILE_STEPS: Category[] = [
  { name: 'list input files (fast-glob)', match: fn('listInputFiles') },
  { name: 'read input (readFileSync)', match: fn('readFileSync') },
  { name: 'parse (input + verify re-read)', match: fn('parsePart10') },
  { name: 'quarantine rules', match: fn('quarantineVerdict') },
  { name: 'sha256 of input (duplicate claim)', match: (f) => f.url.includes('crypto/hash') },
  { name: 'UID derivation (HMAC + BigInt)', match: fn('deriveUid') },
  { name: 'identity map (sqlite, caches, transaction)', match: (f) => f.url.includes('identity/identity-map') || f.url.includes('better-sqlite3') },
  { name: 'deidentify (rules, dates, values)', match: (f) => /anon\/(deidentify|dates|dummy-values|white-list|rules\/)/.test(f.url) },
  { name: 'verify: collect PHI tokens', match: fn('collectPhiTokens') },
  { name: 'verify: search output', match: fn('findPhi') },
  { name: 'encode + concat', match: (f) => f.functionName === 'encodePart10' || (f.functionName === 'concat' && f.url.includes('buffer')) },
  { name: 'write output (temp + rename)', match: fn('writeFileAtomic') },
  { name: 'quarantine copy', match: fn('quarantine', 'anonymize-file') },
  { name: 'module loading / start-up', match: (f) => /^Module\._(load|compile)$/.test(f.functionName) },
  { name: '(garbage collector)', match: fn('(garbage collector)') },
  { name: '(program: native, not attributed)', match: fn('(program)') },
  { name: '(idle)', match: fn('(idle)') },
];

async function profileOurs(work: string, corpus: Corpus, keep: boolean): Promise<void> {
  const dir = join(work, 'profile');
  const profDir = join(dir, 'cpuprof');
  const run = await runOurs(work, corpus, dir, join(dir, 'identity.db'), 1, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) fail('node --cpu-prof wrote no profile');
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
  const sampledSeconds = (profile.endTime - profile.startTime) / 1e6;
  say();
  say(`Profile: ours, --workers 1, fresh identity.db, ${corpus.files} files: ${run.seconds.toFixed(2)} s wall under the profiler ` +
    `(${rate(corpus.files, run.seconds).toFixed(0)} files/s), ${sampledSeconds.toFixed(2)} s profiled`);
  const perFile = (micros: number): number => micros / corpus.files;
  say(formatTable(
    [{ header: 'step' }, { header: 'seconds', decimals: 2 }, { header: 'share %', decimals: 1 }, { header: 'us/file', decimals: 0 }],
    attribute(profile, PROFILE_STEPS, 'other (event loop, promises, glue)').map((s) => [s.name, s.micros / 1e6, s.share * 100, perFile(s.micros)]),
  ));
  say();
  say('Top functions by self time:');
  say(formatTable(TOP_SELF_COLUMNS, topSelfRows(profile, 20)));
  if (keep) say(`profile: ${join(profDir, file)} (open in Chrome DevTools > Performance, or speedscope)`);
}

async function main(): Promise<void> {
  const opts = readCommandLine(SPECS, 'anon-bench.js');
  if (!opts) return;
  if (!Number.isInteger(opts.files) || opts.files < 1) fail('--files must be a positive integer');
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) fail('--rounds must be a positive integer');
  for (const n of opts.flatSizes) if (!Number.isInteger(n) || n < 1) fail(`--flat-sizes: ${n} is not a positive integer`);
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) fail('dist/src/cli/main.js is missing: run `npx tsc -p tsconfig.json` first');
  let gdcm = opts.gdcm;
  if (gdcm && !findExecutable('gdcmanon')) {
    gdcm = false;
    notes.push("gdcmanon not found (Debian: apt-get install -y libgdcm-tools): ours timed alone, no ratio");
  }
  if (gdcm && !findExecutable('openssl')) fail('openssl is needed for gdcmanon\'s throwaway certificate (apt-get install -y openssl), or pass --no-gdcm');
  if (!hasGnuTime()) notes.push(GNU_TIME_HINT);

  const temp = makeTempDir('anon-bench-', opts.tmpDir || undefined);
  const work = temp.dir;
  try {
    const corpora = new Map<number, Corpus>();
    const corpusOf = (files: number): Corpus => {
      let c = corpora.get(files);
      if (!c) corpora.set(files, (c = generateCorpus({ fixture: FIXTURE, outDir: join(work, `corpus-${files}`), shape: defaultShape(files), seed: opts.seed })));
      return c;
    };
    const corpus = corpusOf(opts.files);
    say(`anon-bench: ${corpus.files} synthetic CT files (${(corpus.bytes / MB).toFixed(1)} MB; ${plural(corpus.patients, 'patient')}, ${plural(corpus.studies, 'study', 'studies')}, ` +
      `${plural(corpus.series, 'series', 'series')}) from fixtures/ts/CT_small.dcm; ${opts.rounds} alternating rounds; node ${process.version}, ` +
      `ours with ${opts.workers > 0 ? `--workers ${opts.workers}` : 'default workers'}; peak RSS via ${hasGnuTime() ? 'GNU time %M' : '/proc VmHWM polling'}`);
    say(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start; files in ${work}`);

    let certificate = '';
    if (gdcm) {
      certificate = join(work, 'cert.pem');
      const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'key.pem'), '-out', certificate, '-days', '1', '-subj', '/CN=bench'], { encoding: 'utf8' });
      if (cert.status !== 0) fail(`openssl could not make the throwaway certificate: ${cert.stderr.trim()}`);
    }

    // Untimed: warms the page cache and the tools, creates the HMAC key, and fills the identity.db that warm rounds copy.
    const primedDb = join(work, 'primed', 'identity.db');
    await runOurs(work, corpus, join(work, 'primed'), primedDb, opts.workers);
    throwaway(join(work, 'primed', 'out'));
    if (gdcm) {
      await runGdcm(corpus, join(work, 'gdcm-warmup'), certificate);
      throwaway(join(work, 'gdcm-warmup'));
    }

    // Retain Safe Private keeps CT_small's GE table speed, gantry period, pitch ratio...: the option's cost, same corpus.
    const privateConfig = join(work, 'retain-safe-private.json');
    writeFileSync(privateConfig, JSON.stringify({ profile: { retainSafePrivate: true } }));
    const order: Tool[] = ['ours', ...(gdcm ? ['gdcmanon' as const] : []), ...(opts.warm ? ['ours-warm' as const] : []),
      ...(opts.safePrivate ? ['ours-private' as const] : [])];
    const samples: Sample[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const tool of round % 2 ? order : [...order].reverse()) {
        const dir = join(work, `round${round}-${tool}`);
        let run: RunResult;
        if (tool === 'gdcmanon') run = await runGdcm(corpus, dir, certificate);
        else {
          const db = join(dir, 'identity.db');
          if (tool === 'ours-warm') {
            // A re-run: every mapping already exists (a copy of the primed identity.db; closed cleanly, so no -wal to copy).
            mkdirSync(dir, { recursive: true });
            copyFileSync(primedDb, db);
          }
          run = await runOurs(work, corpus, dir, db, opts.workers, [], tool === 'ours-private' ? privateConfig : undefined);
        }
        samples.push({ tool, round, files: corpus.files, bytes: corpus.bytes, run });
        throwaway(dir);
      }
    }

    say();
    say(formatTable(RUN_COLUMNS, samples.map(sampleRow)));
    say();
    const stat = (tool: Tool) => {
      const mine = samples.filter((s) => s.tool === tool);
      return {
        n: mine.length,
        seconds: summarize(mine.map((s) => s.run.seconds)),
        filesPerSec: summarize(mine.map((s) => rate(s.files, s.run.seconds))),
        mbPerSec: summarize(mine.map((s) => rate(s.bytes / MB, s.run.seconds))),
        rss: summarize(mine.map((s) => s.run.peakRssBytes / MB)),
      };
    };
    const tools = order.filter((t) => samples.some((s) => s.tool === t));
    const stats = new Map(tools.map((t) => [t, stat(t)] as const));
    say('Medians:');
    say(formatTable(
      [{ header: 'tool' }, { header: 'runs' }, { header: 'seconds', decimals: 2 }, { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 },
        { header: 'peak RSS MB', decimals: 0 }, { header: 'max RSS MB', decimals: 0 }, { header: 'spread %', decimals: 0 }],
      tools.map((t) => {
        const s = stats.get(t)!;
        return [t, s.n, s.seconds.median, s.filesPerSec.median, s.mbPerSec.median, s.rss.median, s.rss.max, s.filesPerSec.spread * 100];
      }),
    ));
    const gdcmRate = stats.get('gdcmanon')?.filesPerSec.median ?? NaN;
    const coldRatio = ratio(stats.get('ours')!.filesPerSec.median, gdcmRate);
    const warmRatio = ratio(stats.get('ours-warm')?.filesPerSec.median ?? NaN, gdcmRate);
    const privateRatio = ratio(stats.get('ours-private')?.filesPerSec.median ?? NaN, gdcmRate);
    const privateVsOff = ratio(stats.get('ours-private')?.filesPerSec.median ?? NaN, stats.get('ours')!.filesPerSec.median);

    // Flatness: one cold run per size, fresh identity.db.
    const flat: Sample[] = [];
    for (const files of opts.flatSizes) {
      const c = corpusOf(files);
      const dir = join(work, `flat-${files}`);
      flat.push({ tool: 'ours', round: 1, files: c.files, bytes: c.bytes, run: await runOurs(work, c, dir, join(dir, 'identity.db'), opts.workers) });
      throwaway(dir);
    }
    if (flat.length) {
      say();
      say('Flatness (ours, one cold run per size, fresh identity.db):');
      say(formatTable(
        [{ header: 'files' }, { header: 'MB in', decimals: 1 }, { header: 'seconds', decimals: 2 }, { header: 'files/s', decimals: 0 }, { header: 'MB/s', decimals: 1 }, { header: 'peak RSS MB', decimals: 0 }],
        flat.map((s) => [s.files, s.bytes / MB, s.run.seconds, rate(s.files, s.run.seconds), rate(s.bytes / MB, s.run.seconds), s.run.peakRssBytes / MB]),
      ));
    }
    const allRss = [...samples.filter((s) => s.tool !== 'gdcmanon'), ...flat].map((s) => s.run.peakRssBytes / MB);
    const worstRss = allRss.every(Number.isFinite) ? Math.max(...allRss) : NaN;
    const flatRss = flat.map((s) => s.run.peakRssBytes / MB);
    const growth = flat.length >= 2 ? flatRss[flatRss.length - 1] / flatRss[0] : NaN;
    const slope = flat.length >= 2 ? ((flatRss[flatRss.length - 1] - flatRss[0]) / (flat[flat.length - 1].files - flat[0].files)) * 1000 : NaN;

    say();
    say(`Ratio ours/gdcmanon (median files/s, > 1 means we are faster): cold ${fmt(coldRatio)}${opts.warm ? `, warm ${fmt(warmRatio)}` : ''}` +
      `${opts.safePrivate ? `, Retain Safe Private on ${fmt(privateRatio)} (${fmt(privateVsOff)} of ours with it off)` : ''}`);
    say('Targets (issue 2):');
    say(`  ratio >= ${TARGET_RATIO.toFixed(1)} (cold, fresh identity.db): ${fmt(coldRatio)}  ${met(Number.isFinite(coldRatio) ? coldRatio >= TARGET_RATIO : undefined)}`);
    say(`  peak RSS < ${TARGET_RSS_MB} MB (worst of our runs): ${fmt(worstRss, 0)} MB  ${met(Number.isFinite(worstRss) ? worstRss < TARGET_RSS_MB : undefined)}`);
    if (flat.length >= 2) {
      say(`  RSS flat as files grow: ${flat[0].files} -> ${flat[flat.length - 1].files} files: x${fmt(growth)}, ${fmt(slope, 1)} MB per 1000 more files ` +
        `(flat: under x1.25): ${met(growth < 1.25)}`);
    }
    say(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine makes the figures noisy: compare medians, rerun if spread is high)`);
    say('MB = 10^6 bytes; MB/s counts input bytes; seconds are whole processes (start-up included); page cache warm; gdcmanon is single-threaded.');
    for (const n of notes) say(`note: ${n}`);

    if (opts.profile) await profileOurs(work, corpusOf(opts.files), opts.keep);
  } finally {
    if (opts.keep) say(`kept: ${work}`);
    else temp.remove();
  }
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

function fmt(n: number, decimals = 2): string {
  return Number.isFinite(n) ? n.toFixed(decimals) : 'n/a';
}

main().catch((err: Error) => {
  process.stderr.write(`anon-bench: ${err instanceof BenchError ? err.message : err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
