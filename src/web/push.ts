/**
 * push to a DICOMweb archive: every Part-10 file under a directory is sent with STOW-RS (its bytes
 * as on disk, batched by count and size, a few requests in flight), then confirmed with QIDO-RS
 * (auto: when the archive offers it; find: required; none: not asked). The report has the same
 * shape as the DIMSE push's, plus how the instances were confirmed.
 */
import type { NetworkOptions } from '../scu/options';
import type { PushFailure, PushReport } from '../scu/push';
import { errorMessage } from '../errors';
import { silentLogger, type Logger } from '../util/logger';
import { createCredential } from './credentials';
import { WEB_DEFAULTS, type WebDestination } from './destination';
import { batchItems, listWebItems, type WebItem } from './files';
import { WebClient } from './http-client';
import { listStudyInstances, type StudyListing } from './qido';
import { retryDelayMs, sleep } from './retry';
import { stowBatch } from './stow';

export interface WebPushOptions {
  readonly destination: WebDestination;
  readonly dir: string;
  readonly network: NetworkOptions;
  readonly logger?: Logger;
  readonly onProgress?: (done: number, total: number) => void;
  /** A client shared by several pushes (a run pushes study by study); otherwise one is made and closed here. */
  readonly client?: WebClient;
}

export interface WebPushReport extends PushReport {
  /** The archive's base URL. */
  readonly destination: string;
  /** How stored instances were confirmed, or why they were not. */
  readonly confirmation: string;
  /** Stored and accepted without confirmation (confirm "none", or "auto" where QIDO-RS is not offered). */
  readonly storedUnconfirmed: readonly string[];
}

export function openWebClient(destination: WebDestination, network: NetworkOptions): WebClient {
  return new WebClient({
    url: destination.url,
    tls: destination.tls,
    credential: createCredential(destination.auth),
    connectTimeoutMs: network.connectTimeoutMs,
    responseTimeoutMs: network.dimseTimeoutMs,
    maxSockets: parallelism(destination, network),
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
  const { items, unsendable } = listWebItems(options.dir);
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
  let answered = false;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    for (let batch = queue.shift(); batch && fatal === undefined; batch = queue.shift()) {
      try {
        const outcomes = await stowBatch(client, batch, policy, !answered);
        answered = true;
        const split = batch.filter((_, i) => outcomes[i].kind === 'split');
        if (split.length) queue.unshift(...batchItems(split, Math.ceil(split.length / 2), Infinity));
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome.kind === 'stored') {
            stored.push(item);
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

  const confirmed = await confirm(client, dest.confirm ?? 'auto', stored, options.network, logger);
  return {
    files: total,
    stored: stored.length,
    warnings,
    failed,
    confirmed: confirmed.confirmed,
    unconfirmed: confirmed.unconfirmed,
    complete: failed.length === 0 && confirmed.unconfirmed.length === 0,
    destination: client.url,
    confirmation: confirmed.how,
    storedUnconfirmed: confirmed.accepted,
  };
}

interface Confirmation {
  readonly confirmed: number;
  /** Stored per the answer but absent from the listing, or not checkable while confirmation was required. */
  readonly unconfirmed: string[];
  readonly accepted: string[];
  readonly how: string;
}

async function confirm(client: WebClient, mode: 'auto' | 'find' | 'none', stored: readonly WebItem[], network: NetworkOptions, logger: Logger): Promise<Confirmation> {
  if (stored.length === 0) return { confirmed: 0, unconfirmed: [], accepted: [], how: 'nothing stored' };
  if (mode === 'none') return { confirmed: 0, unconfirmed: [], accepted: stored.map((i) => i.path), how: 'not asked (confirm: none)' };
  const byStudy = new Map<string, WebItem[]>();
  for (const item of stored) byStudy.set(item.studyInstanceUid, [...(byStudy.get(item.studyInstanceUid) ?? []), item]);
  const out: Confirmation = { confirmed: 0, unconfirmed: [], accepted: [], how: 'QIDO-RS at the destination' };
  let how = out.how;
  let confirmed = 0;
  for (const [study, list] of byStudy) {
    const listing = await listWithRetries(client, study, network, logger);
    if (listing.kind === 'failed') {
      how = listing.why;
      out.unconfirmed.push(...list.map((i) => i.path));
      continue;
    }
    if (listing.kind === 'unavailable') {
      how = mode === 'auto' ? `stored, unconfirmed: ${listing.why}` : `required but impossible: ${listing.why}`;
      (mode === 'auto' ? out.accepted : out.unconfirmed).push(...list.map((i) => i.path));
      continue;
    }
    for (const item of list) {
      if (listing.sopInstanceUids.has(item.sopInstanceUid)) confirmed++;
      else out.unconfirmed.push(item.path);
    }
  }
  return { ...out, confirmed, how };
}

/** An archive that offers QIDO-RS but keeps failing leaves the instances unconfirmed (not accepted). */
async function listWithRetries(client: WebClient, study: string, network: NetworkOptions, logger: Logger): Promise<StudyListing | { kind: 'failed'; why: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listStudyInstances(client, study);
    } catch (err) {
      if (attempt >= network.retries) return { kind: 'failed', why: `QIDO-RS failed: ${errorMessage(err)}` };
      logger.warn({ attempt: attempt + 1, why: errorMessage(err) }, 'retrying a QIDO-RS request');
      await sleep(retryDelayMs(attempt, network.retryBackoffMs));
    }
  }
}
