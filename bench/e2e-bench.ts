/**
 * npm run bench:e2e: the whole pipeline (select → pull → anonymize → hook → push → confirm) against
 * the chain a site could script from dcmtk and GDCM (movescu into storescp, gdcmanon -e, storescu),
 * on the same staging and research Orthanc, alternating rounds. Prints wall time per step, totals,
 * our peak RSS and the ratio. A benchmark, not a test: it fails only if a tool fails.
 *
 *   node dist/bench/e2e-bench.js [--studies 20] [--per-study 100] [--rounds 2]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findElement } from '../src/dicom/dataset';
import { parsePart10 } from '../src/dicom/parse';
import { decodeText } from '../src/dicom/values';
import { RunDir } from '../src/run/run-dir';
import { Orthanc } from '../test/helpers/orthanc';
import { freePort } from '../test/helpers/ports';
import { stopChild, track } from '../test/helpers/processes';
import { readCommandLine } from './lib/args';
import { generateCorpus } from './lib/corpus';
import { makeTempDir, treeStats } from './lib/fs';
import { describeFailure, runMeasured, type RunResult } from './lib/process';
import { median, ratio } from './lib/stats';
import { formatTable, type Cell } from './lib/table';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'dicom-pipeline.js');
const SPECS = {
  studies: { default: 20, help: 'studies in staging' },
  perStudy: { default: 100, help: 'instances per study' },
  rounds: { default: 2, help: 'alternating rounds of each side' },
  keep: { default: false, help: 'keep the temp directory' },
};
const OUR_AET = 'DCMQR';
const CHAIN_SCP_AET = 'STORESCP';
const CHAIN_SCU_AET = 'MOVESCU';

interface StepTimes {
  readonly steps: Record<string, number>;
  readonly total: number;
  readonly peakRssMb?: number;
}

function must(name: string, r: RunResult): RunResult {
  if (r.exitCode !== 0) throw new Error(describeFailure(name, r));
  return r;
}

async function ours(config: string, cwd: string): Promise<StepTimes> {
  const r = must('dicom-pipeline', await runMeasured({ command: process.execPath, args: [BIN, '-c', config], cwd, env: { ...process.env, CI: 'true' } }));
  const state = RunDir.latest(join(cwd, 'data'))!.loadState()!;
  const steps: Record<string, number> = {};
  for (const [name, s] of Object.entries(state.steps)) steps[name] = s?.seconds ?? 0;
  // Pull and anonymize overlap and are timed from the same start: count only what anonymizing adds.
  steps.anonymize = Math.max(0, (steps.anonymize ?? 0) - (steps.pull ?? 0));
  return { steps, total: r.seconds, peakRssMb: r.peakRssBytes ? r.peakRssBytes / 1e6 : undefined };
}

async function chain(work: string, staging: Orthanc, research: Orthanc, scpPort: number, studies: readonly string[], cert: string): Promise<StepTimes> {
  const received = join(work, 'received');
  const anonymized = join(work, 'anonymized');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(received, { recursive: true });
  mkdirSync(anonymized, { recursive: true });
  const env = { ...process.env, TCP_NODELAY: '1' };
  const started = process.hrtime.bigint();
  const scp = spawn('storescp', ['-aet', CHAIN_SCP_AET, '-od', received, '-uf', '--fork', String(scpPort)], { env, stdio: 'ignore' });
  track(scp);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = process.hrtime.bigint();
  for (const study of studies) {
    must('movescu', await runMeasured({ command: 'movescu', args: ['-S', '-aet', CHAIN_SCU_AET, '-aec', staging.aeTitle, '-aem', CHAIN_SCP_AET,
      '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`, '127.0.0.1', String(staging.dicomPort)], env }, 'proc-poll'));
  }
  const t1 = process.hrtime.bigint();
  await stopChild(scp);
  must('gdcmanon', await runMeasured({ command: 'gdcmanon', args: ['-e', '--certificate', cert, '-r', '--continue', '-i', received, '-o', anonymized], env }, 'proc-poll'));
  const t2 = process.hrtime.bigint();
  must('storescu', await runMeasured({ command: 'storescu', args: ['-aet', CHAIN_SCU_AET, '-aec', research.aeTitle, '+sd', '+r', '-nh', '127.0.0.1', String(research.dicomPort), anonymized], env }, 'proc-poll'));
  const t3 = process.hrtime.bigint();
  const s = (a: bigint, b: bigint): number => Number(b - a) / 1e9;
  return { steps: { pull: s(t0, t1), anonymize: s(t1, t2), push: s(t2, t3) }, total: s(started, t3) };
}

async function main(): Promise<void> {
  const opts = readCommandLine(SPECS, 'e2e-bench.js');
  if (!opts) return;
  const tmp = makeTempDir('bench-e2e-');
  const ourPort = await freePort();
  const scpPort = await freePort();
  const staging = await Orthanc.start({
    aeTitle: 'STAGING',
    modalities: {
      pipeline: { aeTitle: OUR_AET, host: '127.0.0.1', port: ourPort },
      storescp: { aeTitle: CHAIN_SCP_AET, host: '127.0.0.1', port: scpPort },
      movescu: { aeTitle: CHAIN_SCU_AET, host: '127.0.0.1', port: 1 },
    },
  });
  const research = await Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipeline: { aeTitle: OUR_AET, host: '127.0.0.1', port: ourPort } } });
  try {
    const files = opts.studies * opts.perStudy;
    const corpus = generateCorpus({ fixture: join(ROOT, 'fixtures', 'ts', 'CT_small.dcm'), outDir: join(tmp.dir, 'corpus'),
      shape: { files, patients: Math.max(1, Math.round(opts.studies / 4)), studiesPerPatient: Math.min(4, opts.studies), seriesPerStudy: 1 } });
    const paths: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => paths.push(p))(join(d, e.name));
    };
    walk(corpus.dir);
    process.stdout.write(`bench:e2e: loading ${corpus.files} files (${(corpus.bytes / 1e6).toFixed(1)} MB, ${corpus.studies} studies) into staging...\n`);
    const studies = new Set<string>();
    for (let i = 0; i < paths.length; i += 8) {
      await Promise.all(paths.slice(i, i + 8).map(async (p) => {
        const bytes = readFileSync(p);
        studies.add(decodeText(findElement(parsePart10(bytes).dataset, 0x0020000d)!));
        await staging.upload(bytes);
      }));
    }

    const site = join(tmp.dir, 'site');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'reviewed.csv'), ['study_instance_uid,has_protocol_series,comment', ...[...studies].map((s) => `${s},false,`)].join('\n') + '\n');
    const config = join(site, 'dicom-pipeline.json');
    const writeConfig = (): void => writeFileSync(config, JSON.stringify({
      local: { aet: OUR_AET, port: ourPort },
      staging: { aet: 'STAGING', host: '127.0.0.1', port: staging.dicomPort },
      research: { aet: 'RESEARCH', host: '127.0.0.1', port: research.dicomPort },
      review: { csv: 'reviewed.csv' }, identityDb: 'identity.db', keyFile: 'identity.key', dataDir: 'data',
      maxStudies: studies.size,
    }));
    writeConfig();
    const cert = join(tmp.dir, 'cert.pem');
    spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tmp.dir, 'key.pem'), '-out', cert, '-days', '1', '-subj', '/CN=bench'], { stdio: 'ignore' });

    const results: Array<{ tool: string; round: number; t: StepTimes }> = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 === 1 ? ['ours', 'chain'] : ['chain', 'ours'];
      for (const tool of order) {
        await research.clear();
        rmSync(join(site, 'data'), { recursive: true, force: true });
        rmSync(join(site, 'identity.db'), { force: true });
        spawnSync('sync');
        const t = tool === 'ours' ? await ours(config, site) : await chain(join(tmp.dir, 'chain'), staging, research, scpPort, [...studies], cert);
        const stored = (await research.instanceIds()).length;
        if (stored !== corpus.files) throw new Error(`${tool} round ${round}: research holds ${stored} of ${corpus.files} instances`);
        results.push({ tool, round, t });
        process.stdout.write(`  ${tool} round ${round}: ${t.total.toFixed(1)} s\n`);
      }
    }
    const steps = ['pull', 'anonymize', 'push'];
    const rows: Cell[][] = results.map(({ tool, round, t }) => [tool, round, ...steps.map((s) => t.steps[s]), t.total - steps.reduce((n, s) => n + (t.steps[s] ?? 0), 0), t.total, corpus.files / t.total, t.peakRssMb]);
    process.stdout.write('\n(ours: anonymize runs while pulling; its column is the time it adds after the pull ends)');
    const columns = [{ header: 'tool' }, { header: 'round' }, ...steps.map((s) => ({ header: `${s} s`, decimals: 1 })), { header: 'other s', decimals: 1 }, { header: 'total s', decimals: 1 }, { header: 'files/s' }, { header: 'peak RSS MB' }];
    process.stdout.write('\n' + formatTable(columns, rows) + '\n\n');
    const med = (tool: string, pick: (t: StepTimes) => number): number => median(results.filter((r) => r.tool === tool).map((r) => pick(r.t)));
    const medRows: Cell[][] = ['ours', 'chain'].map((tool) => [tool, ...steps.map((s) => med(tool, (t) => t.steps[s] ?? 0)), med(tool, (t) => t.total)]);
    process.stdout.write('Medians:\n' + formatTable([{ header: 'tool' }, ...steps.map((s) => ({ header: `${s} s`, decimals: 1 })), { header: 'total s', decimals: 1 }], medRows) + '\n');
    const r = ratio(med('chain', (t) => t.total), med('ours', (t) => t.total));
    const rss = Math.max(...results.filter((x) => x.tool === 'ours').map((x) => x.t.peakRssMb ?? 0));
    process.stdout.write(`\nRatio chain/ours total time (> 1 means the pipeline is faster): ${r.toFixed(2)} (target >= 1.0: ${r >= 1 ? 'met' : 'NOT met'})\n`);
    process.stdout.write(`Peak RSS of the pipeline: ${rss.toFixed(0)} MB (target < 300: ${rss < 300 ? 'met' : 'NOT met'})\n`);
    process.stdout.write(`Corpus: ${corpus.files} files in ${corpus.studies} studies, ${(treeStats(corpus.dir).bytes / 1e6).toFixed(1)} MB. The chain does what a script would (no verification, no audit trail, gdcmanon keeps private tags and dates).\n`);
  } finally {
    await staging.stop();
    await research.stop();
    if (!opts.keep) tmp.remove();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:e2e: ${err.message}\n`);
  process.exitCode = 1;
});
