/**
 * push: C-STORE every DICOM file under a directory, sending each file's own dataset bytes, over N
 * parallel associations, grouped by transfer syntax (one per presentation context), then confirm
 * with C-FIND at IMAGE level that every sent instance is at the destination.
 */
import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';
import { PipelineError } from '../errors';
import type { ScuAssociation } from '../dicom/dimse-association';
import { findElement } from '../dicom/dataset';
import { classifyStatus, describeStatus, isDone } from '../dicom/dimse-status';
import { parseDataset } from '../dicom/parse';
import { readFileHeader } from '../dicom/part10';
import { transferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';
import { silentLogger, type Logger } from '../util/logger';
import type { NetworkOptions } from './options';
import { formatPeer, type Peer } from './peer';
import { findStudyInstances } from './query';
import { FIND_CONTEXTS, openAssociation, withAssociation } from './session';

export interface PushOptions {
  readonly peer: Peer;
  readonly dir: string;
  readonly callingAet: string;
  readonly network: NetworkOptions;
  readonly logger?: Logger;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PushFailure {
  readonly path: string;
  readonly reason: string;
}

export interface PushReport {
  readonly files: number;
  readonly stored: number;
  /** Stored with a warning status (e.g. 0xB000 coercion): counted in stored too. */
  readonly warnings: number;
  readonly failed: readonly PushFailure[];
  readonly confirmed: number;
  /** Answered Success but absent from the destination's C-FIND. */
  readonly unconfirmed: readonly string[];
  readonly complete: boolean;
}

interface Item {
  readonly path: string;
  readonly sopClassUid: string;
  sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly datasetOffset: number;
  studyInstanceUid?: string;
  lastError?: string;
}

/** Presentation context IDs are odd numbers 1..255: at most 128 contexts per association. */
const MAX_CONTEXTS = 128;

export async function push(options: PushOptions): Promise<PushReport> {
  const logger = options.logger ?? silentLogger;
  const { items, unreadable } = await scan(options.dir);
  const failed: PushFailure[] = [...unreadable];
  const stored: Item[] = [];
  let warnings = 0;
  let done = 0;
  let everAssociated = false;
  const total = items.length + unreadable.length;
  options.onProgress?.(unreadable.length, total);

  let queue = items;
  for (let attempt = 0; queue.length > 0; attempt++) {
    const retry: Item[] = [];
    const batches = makeBatches(queue, options.network.requestsPerAssociation);
    let fatal: unknown;
    const worker = async (): Promise<void> => {
      for (let batch = batches.shift(); batch && fatal === undefined; batch = batches.shift()) {
        let assoc: ScuAssociation;
        try {
          assoc = await openAssociation(options.peer, options.callingAet, contextsOf(batch), options.network);
          everAssociated = true;
        } catch (err) {
          // Before any success the peer is misconfigured or down: one clear error beats retries.
          if (!everAssociated || !isTransient(err)) fatal ??= err;
          for (const item of batch) retry.push(withError(item, err));
          continue;
        }
        try {
          // The next file is read while the peer stores the current one (at most two in memory per association).
          let nextLoad: Promise<Loaded> | undefined = load(batch[0]);
          for (let i = 0; i < batch.length; i++) {
            const item = batch[i];
            const loaded = await nextLoad!;
            nextLoad = i + 1 < batch.length ? load(batch[i + 1]) : undefined;
            const outcome = await sendOne(assoc, options.peer, item, loaded);
            if (outcome === 'retry') {
              retry.push(...batch.slice(i));
              break;
            }
            if (outcome === 'stored' || outcome === 'warning') {
              stored.push(item);
              if (outcome === 'warning') warnings++;
            } else {
              failed.push({ path: item.path, reason: outcome.reason });
            }
            options.onProgress?.(unreadable.length + ++done, total);
          }
        } finally {
          if (assoc.isOpen) await assoc.release().catch(() => assoc.abort());
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.network.associations) }, worker));
    if (fatal !== undefined) throw fatal;
    if (retry.length > 0 && attempt >= options.network.retries) {
      for (const item of retry) failed.push({ path: item.path, reason: item.lastError ?? 'not sent' });
      break;
    }
    if (retry.length > 0) {
      logger.warn({ files: retry.length, attempt: attempt + 1 }, 'retrying C-STOREs after transient failures');
      await new Promise((r) => setTimeout(r, options.network.retryBackoffMs * 2 ** attempt));
    }
    queue = retry;
  }

  const unconfirmed = stored.length > 0 ? await confirm(options, stored) : [];
  return {
    files: total,
    stored: stored.length,
    warnings,
    failed,
    confirmed: stored.length - unconfirmed.length,
    unconfirmed,
    complete: failed.length === 0 && unconfirmed.length === 0,
  };
}

type SendOutcome = 'stored' | 'warning' | 'retry' | { reason: string };

type Loaded = { readonly dataset: Buffer; readonly uids: DatasetUids } | { readonly error: string };

/** Reads a file's dataset and the UIDs the receiver will file it under; never rejects. */
async function load(item: Item): Promise<Loaded> {
  try {
    const dataset = (await readFile(item.path)).subarray(item.datasetOffset);
    return { dataset, uids: uidsOf(dataset, item.transferSyntaxUid) };
  } catch (err) {
    return { error: `cannot read file: ${(err as Error).message}` };
  }
}

async function sendOne(assoc: ScuAssociation, peer: Peer, item: Item, loaded: Loaded): Promise<SendOutcome> {
  if (!assoc.findContext(item.sopClassUid, item.transferSyntaxUid)) {
    return { reason: `${formatPeer(peer)} accepted no presentation context for SOP class ${item.sopClassUid} in transfer syntax ${item.transferSyntaxUid}` };
  }
  if ('error' in loaded) return { reason: loaded.error };
  const { dataset, uids } = loaded;
  item.studyInstanceUid ??= uids.study;
  // The receiver files the instance under the dataset's own UIDs; the command must say the same.
  const sopClassUid = uids.sopClass || item.sopClassUid;
  const sopInstanceUid = uids.sopInstance || item.sopInstanceUid;
  if (sopClassUid !== item.sopClassUid) {
    return { reason: `SOP class in the dataset (${sopClassUid}) differs from the file meta information (${item.sopClassUid})` };
  }
  item.sopInstanceUid = sopInstanceUid;
  try {
    const reply = await assoc.store({ sopClassUid, sopInstanceUid, transferSyntaxUid: item.transferSyntaxUid, dataset });
    const status = classifyStatus(reply.status);
    if (isDone(status)) return status.kind === 'warning' ? 'warning' : 'stored';
    item.lastError = `C-STORE ${describeStatus(status, reply.errorComment)}`;
    return status.transient ? 'retry' : { reason: item.lastError };
  } catch (err) {
    // No final response (timeout, abort, connection lost): unknown outcome, so send it again.
    item.lastError = err instanceof Error ? err.message : String(err);
    return 'retry';
  }
}

interface DatasetUids {
  readonly study?: string;
  readonly sopClass?: string;
  readonly sopInstance?: string;
}

function uidsOf(dataset: Buffer, tsUid: string): DatasetUids {
  const ts = transferSyntax(tsUid);
  if (!ts) return {};
  try {
    const elements = parseDataset(dataset, ts);
    const text = (tag: number): string | undefined => {
      const el = findElement(elements, tag);
      return el ? decodeText(el) || undefined : undefined;
    };
    return { study: text(0x0020000d), sopClass: text(0x00080016), sopInstance: text(0x00080018) };
  } catch {
    return {};
  }
}

async function scan(dir: string): Promise<{ items: Item[]; unreadable: PushFailure[] }> {
  const paths = (await fg('**/*', { cwd: dir, absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false })).sort();
  if (paths.length === 0) throw new PipelineError('E_USAGE', `no files to push under ${dir}`);
  const items: Item[] = [];
  const unreadable: PushFailure[] = [];
  for (const path of paths) {
    try {
      const header = readFileHeader(path);
      if (!header.sopClassUid || !header.sopInstanceUid || !transferSyntax(header.transferSyntaxUid)) {
        unreadable.push({ path, reason: 'file meta information lacks SOP class, SOP instance or a known transfer syntax' });
        continue;
      }
      items.push({ path, ...header });
    } catch (err) {
      unreadable.push({ path, reason: `not a DICOM Part-10 file (${(err as Error).message})` });
    }
  }
  return { items, unreadable };
}

/** Same transfer syntax per batch (one per context), bounded size, at most 128 SOP classes. */
function makeBatches(items: readonly Item[], perAssociation: number): Item[][] {
  const byTs = new Map<string, Item[]>();
  for (const item of items) {
    const list = byTs.get(item.transferSyntaxUid) ?? [];
    list.push(item);
    byTs.set(item.transferSyntaxUid, list);
  }
  const batches: Item[][] = [];
  for (const list of byTs.values()) {
    let batch: Item[] = [];
    let classes = new Set<string>();
    for (const item of list) {
      const newClass = !classes.has(item.sopClassUid);
      if (batch.length >= perAssociation || (newClass && classes.size >= MAX_CONTEXTS)) {
        batches.push(batch);
        batch = [];
        classes = new Set();
      }
      batch.push(item);
      classes.add(item.sopClassUid);
    }
    if (batch.length) batches.push(batch);
  }
  return batches;
}

function contextsOf(batch: readonly Item[]): { abstractSyntax: string; transferSyntaxes: string[] }[] {
  const classes = [...new Set(batch.map((i) => i.sopClassUid))];
  return classes.map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [batch[0].transferSyntaxUid] }));
}

function isTransient(err: unknown): boolean {
  if (!(err instanceof PipelineError)) return false;
  if (err.code === 'E_NETWORK') return true;
  return (err as PipelineError & { transient?: boolean }).transient === true;
}

function withError(item: Item, err: unknown): Item {
  item.lastError = err instanceof Error ? err.message : String(err);
  return item;
}

/** C-FIND at IMAGE level per study: every instance answered Success must be listed by the peer. */
async function confirm(options: PushOptions, stored: readonly Item[]): Promise<string[]> {
  const byStudy = new Map<string, Item[]>();
  const unconfirmed: string[] = [];
  for (const item of stored) {
    if (!item.studyInstanceUid) {
      unconfirmed.push(item.path);
      continue;
    }
    const list = byStudy.get(item.studyInstanceUid) ?? [];
    list.push(item);
    byStudy.set(item.studyInstanceUid, list);
  }
  await withAssociation(options.peer, options.callingAet, FIND_CONTEXTS, options.network, async (assoc) => {
    for (const [study, items] of byStudy) {
      const present = new Set((await findStudyInstances(assoc, options.peer, study)).map((r) => r.sopInstanceUid));
      for (const item of items) if (!present.has(item.sopInstanceUid)) unconfirmed.push(item.path);
    }
  });
  return unconfirmed;
}
