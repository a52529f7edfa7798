/**
 * npm run bench:identity: the identity store on SQLite and on PostgreSQL (a real server this
 * benchmark starts, fsync on as in production), with 1, 2 and 4 writers in their own threads:
 * instances mapped per second when everything is new (4 new UIDs, roles, a patient, an accession per
 * instance, batches of 16 per transaction) and when everything is already stored (a fresh process's
 * lookups). Then a simulated run of --simulate instances on PostgreSQL with 2 writers, peak RSS
 * sampled along the way (memory must stay flat). Prints figures; never fails for a missed target.
 *
 *   node dist/bench/identity-bench.js [--instances 20000] [--writers 1,2,4] [--simulate 1000000]
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { availableParallelism, loadavg } from 'node:os';
import { Postgres } from '../test/helpers/postgres';
import { readCommandLine } from './lib/args';
import { makeTempDir } from './lib/fs';
import { formatTable, type Cell } from './lib/table';
import type { WriterJob } from './identity-writer';

const SPECS = {
  instances: { default: 20000, help: 'instances per measurement' },
  writers: { default: [1, 2, 4] as number[], help: 'concurrent writers (threads) to measure' },
  simulate: { default: 1_000_000, help: 'instances of the simulated run on PostgreSQL with 2 writers (0 to skip)' },
  target: { default: 2000, help: 'goal for PostgreSQL with 2 writers, instances/s' },
};

interface Measured {
  readonly seconds: number;
  readonly peakRssMb: number;
}

/** Runs `writers` threads over instances [0, count) of one store; wall time from 'go' to the last done. */
async function measure(target: string, keyFile: string, count: number, writers: number, onProgress?: (done: number, rssMb: number) => void): Promise<Measured> {
  const per = Math.ceil(count / writers);
  const threads = Array.from({ length: writers }, (_, w) => new Worker(join(__dirname, 'identity-writer.js'), {
    workerData: { target, keyFile, first: w * per, count: Math.max(0, Math.min(per, count - w * per)), reportEvery: onProgress ? 50_000 : 0 } satisfies WriterJob,
  }));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const progress = new Array<number>(writers).fill(0);
  try {
    // Every writer opened (connected, schema checked) before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = process.hrtime.bigint();
    await Promise.all(threads.map((t, w) => new Promise<void>((resolve, reject) => {
      t.on('message', (m: { seconds?: number; error?: string; progress?: number }) => {
        if (m.error) reject(new Error(m.error));
        else if (m.progress !== undefined) {
          progress[w] = m.progress;
          onProgress?.(progress.reduce((a, b) => a + b, 0), process.memoryUsage().rss / 1e6);
        } else resolve();
      });
      t.on('error', reject);
      t.postMessage('go');
    })));
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: Math.max(peak, process.memoryUsage().rss) / 1e6 };
  } finally {
    clearInterval(sampler);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

async function main(): Promise<void> {
  const o = readCommandLine(SPECS, 'identity-bench.js');
  if (!o) return;
  const tmp = makeTempDir('dp-idbench-');
  const keyFile = join(tmp.dir, 'key');
  process.stdout.write(`bench:identity on ${availableParallelism()} cores (load ${loadavg()[0].toFixed(2)}); ${o.instances} instances per measurement, batches of 16\n`);
  const pg = await Postgres.start({ settings: { max_connections: '50' } });
  let db = 0;
  try {
    const rows: Cell[][] = [];
    for (const backend of ['SQLite', 'PostgreSQL'] as const) {
      for (const writers of o.writers) {
        const target = backend === 'SQLite' ? join(tmp.dir, `id-${db++}.db`) : pg.createDb(`bench${db++}`);
        const fresh = await measure(target, keyFile, o.instances, writers);
        const again = await measure(target, keyFile, o.instances, writers);
        rows.push([backend, writers, o.instances / fresh.seconds, (o.instances * 4) / fresh.seconds, o.instances / again.seconds, (o.instances * 4) / again.seconds]);
        process.stdout.write(`  ${backend} x${writers}: new ${(o.instances / fresh.seconds).toFixed(0)} instances/s, stored ${(o.instances / again.seconds).toFixed(0)} instances/s\n`);
      }
    }
    process.stdout.write('\n' + formatTable([
      { header: 'store' }, { header: 'writers' }, { header: 'new inst/s' }, { header: 'new UIDs/s' }, { header: 'lookup inst/s' }, { header: 'lookup UIDs/s' },
    ], rows) + '\n');
    const pg2 = rows.find((r) => r[0] === 'PostgreSQL' && r[1] === 2);
    if (pg2) process.stdout.write(`goal: PostgreSQL with 2 writers >= ${o.target} new instances/s: ${(pg2[2] as number).toFixed(0)} -> ${(pg2[2] as number) >= o.target ? 'met' : 'MISSED'}\n`);

    if (o.simulate > 0) {
      const target = pg.createDb('simulated');
      const samples: Array<[number, number]> = [];
      const run = await measure(target, keyFile, o.simulate, 2, (done, rss) => samples.push([done, rss]));
      process.stdout.write(`\nsimulated run: ${o.simulate} instances on PostgreSQL, 2 writers: ${run.seconds.toFixed(1)} s, ${(o.simulate / run.seconds).toFixed(0)} instances/s, peak RSS ${run.peakRssMb.toFixed(0)} MB (all threads)\n`);
      const shown = samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0 || i === samples.length - 1);
      process.stdout.write(`RSS along the run (instances: MB): ${shown.map(([d, r]) => `${d}: ${r.toFixed(0)}`).join(', ')}\n`);
      process.stdout.write(`rows: ${pg.psql('simulated', "select (select count(*) from uid_map) || ' UIDs, ' || (select count(*) from patient_map) || ' patients, ' || pg_size_pretty(pg_database_size('simulated'))").join('')}\n`);
    }
  } finally {
    pg.stop();
    tmp.remove();
  }
}

void main().catch((err: Error) => {
  process.stderr.write(`identity-bench: ${err.message}\n`);
  process.exit(1);
});
