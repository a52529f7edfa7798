/**
 * push to a DICOMweb archive: every Part-10 file under a directory is sent with STOW-RS (its bytes
 * as on disk, batched by count and size, a few requests in flight), each batch confirmed with QIDO-RS
 * while the next ones are sent (src/web/confirm.ts; auto: when the archive offers it; find: required;
 * none: not asked). The report has the same
 * shape as the DIMSE push's (src/scu/push.ts), plus the archive's URL.
 */
import type { ConfirmMode } from '../scu/confirm';
import type { NetworkOptions } from '../scu/options';
import type { PushedFile, PushFailure, PushReport } from '../scu/push';
import { silentLogger, type Logger } from '../util/logger';
import { WebConfirmer, type Confirmation } from './confirm';
import { createCredential } from './credentials';
import { WEB_DEFAULTS, type WebDestination } from './destination';
import { batchItems, listWebItems, type WebItem } from './files';
import { WebClient } from './http-client';
import { stowBatch } from './stow';

export interface WebPushOptions {
  readonly destination: WebDestination;
  readonly dir: string;
  /** Push only these files (absolute paths under dir) instead of every file under dir. */
  readonly files?: readonly string[];
  readonly network: NetworkOptions;
  readonly logger?: Logger;
  readonly onProgress?: (done: number, total: number) => void;
  /** A client shared by several pushes (a run pushes study by study); otherwise one is made and closed here. */
  readonly client?: WebClient;
}

/** The DIMSE push's report (stored / confirmed / unconfirmed / failed, per file), plus the archive's URL. */
export interface WebPushReport extends PushReport {
  readonly destination: string;
}

export function openWebClient(destination: WebDestination, network: NetworkOptions): WebClient {
  return new WebClient({
    url: destination.url,
    tls: destination.tls,
    credential: createCredential(destination.auth),
    connectTimeoutMs: network.connectTimeoutMs,
    responseTimeoutMs: network.dimseTimeoutMs,
    // STOW-RS requests and the QIDO-RS queries confirming their batches, each `parallel` at a time.
    maxSockets: 2 * parallelism(destination, network),
  });
}

export async function withWebClient<T>(destination: WebDestination, network: NetworkOptions, fn: (client: WebClient) => Promise<T>): Promise<T> {
  const client = openWebClient(destination, network);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function parallelism(destination: WebDestination, network: NetworkOptions): number {
  return Math.max(1, destination.parallelRequests ?? network.associations);
}

export async function pushWeb(options: WebPushOptions): Promise<WebPushReport> {
  if (options.client) return pushWith(options.client, options);
  return withWebClient(options.destination, options.network, (client) => pushWith(client, options));
}

async function pushWith(client: WebClient, options: WebPushOptions): Promise<WebPushReport> {
  const logger = options.logger ?? silentLogger;
  const dest = options.destination;
  const { items, unsendable } = listWebItems(options.dir, options.files);
  const failed: PushFailure[] = [...unsendable];
  const stored: WebItem[] = [];
  let warnings = 0;
  const total = items.length + unsendable.length;
  let done = unsendable.length;
  options.onProgress?.(done, total);

  const files = dest.filesPerRequest ?? WEB_DEFAULTS.filesPerRequest;
  const bytes = (dest.megabytesPerRequest ?? WEB_DEFAULTS.megabytesPerRequest) * (1 << 20);
  const queue = batchItems(items, files, bytes);
  const policy = {
    retries: options.network.retries,
    backoffMs: options.network.retryBackoffMs,
    onRetry: (why: string, attempt: number) => logger.warn({ attempt, why }, 'retrying a STOW-RS request'),
  };
  const mode = dest.confirm ?? 'auto';
  const confirmer = new WebConfirmer(client, mode, options.network, parallelism(dest, options.network), logger);
  let answered = false;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    for (let batch = queue.shift(); batch && fatal === undefined; batch = queue.shift()) {
      try {
        const outcomes = await stowBatch(client, batch, policy, !answered);
        answered = true;
        const split = batch.filter((_, i) => outcomes[i].kind === 'split');
        if (split.length) queue.unshift(...batchItems(split, Math.ceil(split.length / 2), Infinity));
        const storedNow = batch.filter((_, i) => outcomes[i].kind === 'stored');
        stored.push(...storedNow);
        confirmer.stored(storedNow);
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome.kind === 'stored') {
            if (outcome.warning) warnings++;
          } else if (outcome.kind === 'failed') {
            failed.push({ path: item.path, reason: outcome.reason });
          }
        });
        done += batch.length - split.length;
        options.onProgress?.(done, total);
      } catch (err) {
        fatal ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: parallelism(dest, options.network) }, worker));
  if (fatal !== undefined) throw fatal;

  const confirmation = await confirmer.finish(stored);
  return { ...report(total, mode, stored.length, warnings, failed, confirmation, [...unsendable, ...items].map((i) => i.path)), destination: client.url };
}

/** Per file, in the DIMSE push's terms (src/scu/push.ts), so that summaries, journal and exit codes are shared. */
function report(total: number, mode: ConfirmMode, stored: number, warnings: number, failed: readonly PushFailure[], c: Confirmation, paths: readonly string[]): PushReport {
  const failedPaths = new Map(failed.map((f) => [f.path, f.reason]));
  const results: PushedFile[] = [];
  for (const path of paths) {
    const reason = failedPaths.get(path);
    const unconfirmed = c.unconfirmed.get(path);
    if (reason !== undefined) results.push({ path, status: 'failed', reason, delivered: false });
    else if (c.confirmed.has(path)) results.push({ path, status: 'confirmed', confirmedBy: 'QIDO-RS', delivered: true });
    else if (unconfirmed && mode === 'none') results.push({ path, status: 'stored', delivered: true });
    else if (unconfirmed) results.push({ path, status: 'unconfirmed', reason: unconfirmed.why, delivered: unconfirmed.delivered });
  }
  const delivered = results.filter((r) => r.delivered).length;
  return {
    files: total,
    confirm: mode,
    stored,
    warnings,
    failed,
    confirmed: c.confirmed.size,
    confirmedBy: c.confirmed.size ? { 'QIDO-RS': c.confirmed.size } : {},
    // STOW-RS sends every file in its own transfer syntax: nothing is converted.
    converted: 0,
    unconfirmed: results.filter((r) => r.status === 'unconfirmed').map((r) => ({ path: r.path, reason: r.reason!, delivered: r.delivered })),
    delivered,
    complete: delivered === total,
    warning: c.warning,
    results,
  };
}
