/**
 * push: C-STORE every DICOM file under a directory, sending each file's own dataset bytes (or, for an
 * archive that refuses the file's syntax, their lossless conversion), over N parallel associations,
 * grouped by transfer syntax, then confirm delivery as configured (confirm.ts: storage commitment,
 * C-FIND at IMAGE level, or none).
 */
import { errorMessage, PipelineError } from '../errors';
import { describeSyntax } from '../dicom/convert-syntax';
import type { ProposedContext, ScuAssociation } from '../dicom/dimse-association';
import { classifyStatus, describeStatus, isDone } from '../dicom/dimse-status';
import { transferSyntax } from '../dicom/transfer-syntax';
import { silentLogger, type Logger } from '../util/logger';
import type { NetworkOptions } from './options';
import { formatPeer, type Peer } from './peer';
import { datasetIn, load, scan, syntaxesFor as syntaxes, type Loaded, type PushFailure, type PushItem } from './push-files';
import type { CommitmentEndpoint } from './commitment';
import { confirmDelivery, type ConfirmedBy, type ConfirmMode, type SentInstance } from './confirm';
import { openAssociation } from './session';

export interface PushOptions {
  readonly peer: Peer;
  readonly dir: string;
  /** Push only these files (absolute paths under dir) instead of every file under dir. */
  readonly files?: readonly string[];
  readonly callingAet: string;
  readonly network: NetworkOptions;
  /** How delivery is confirmed (default auto). */
  readonly confirm?: ConfirmMode;
  /** Our AE title and port, where the archive sends storage commitment reports. */
  readonly commitmentEndpoint?: CommitmentEndpoint;
  /** auto: storage commitment already failed to work with this archive, for this reason: skip it. */
  readonly commitmentUnusable?: string;
  readonly logger?: Logger;
  readonly onProgress?: (done: number, total: number) => void;
  /** Progress of the confirmation (instances answered for, of those stored; how). */
  readonly onConfirmProgress?: (done: number, total: number, how: string) => void;
}

export type { PushFailure };

export type PushedStatus = 'confirmed' | 'stored' | 'unconfirmed' | 'failed';

/** One file's outcome (push --json). */
export interface PushedFile {
  readonly path: string;
  readonly status: PushedStatus;
  readonly confirmedBy?: ConfirmedBy;
  /** Why it is unconfirmed or failed. */
  readonly reason?: string;
  /** Stored and confirmed as configured (or counted so: see confirm.ts). */
  readonly delivered: boolean;
  /** Set when the archive refused the file's own transfer syntax and it was stored in this lossless conversion. */
  readonly convertedTo?: string;
}

export interface PushReport {
  readonly files: number;
  readonly confirm: ConfirmMode;
  /** Answered Success by the archive (at least once). */
  readonly stored: number;
  /** Stored with a warning status (e.g. 0xB000 coercion): counted in stored too. */
  readonly warnings: number;
  /** Stored in a lossless conversion because the archive refused the file's own transfer syntax: counted in stored too. */
  readonly converted: number;
  /** Not delivered: not stored, or the archive reported it does not hold them. */
  readonly failed: readonly PushFailure[];
  readonly confirmed: number;
  readonly confirmedBy: Readonly<Partial<Record<ConfirmedBy, number>>>;
  readonly unconfirmed: readonly (PushFailure & { readonly delivered: boolean })[];
  readonly delivered: number;
  /** Every file delivered. */
  readonly complete: boolean;
  /** One line for the operator when confirmation was impossible (auto). */
  readonly warning?: string;
  /** auto: why storage commitment did not work here (the next push to this archive skips it). */
  readonly commitmentUnusable?: string;
  readonly results: readonly PushedFile[];
}

type Item = PushItem;

/** Presentation context IDs are odd numbers 1..255: at most 128 contexts per association. */
const MAX_CONTEXTS = 128;

export async function push(options: PushOptions): Promise<PushReport> {
  const logger = options.logger ?? silentLogger;
  const { items, unreadable } = await scan(options.dir, options.files);
  const total = items.length + unreadable.length;
  let done = unreadable.length;
  options.onProgress?.(done, total);
  const sent = await storeAll(options, items, () => options.onProgress?.(++done, total));
  const failed: PushFailure[] = [...unreadable, ...sent.failed];
  const mode = options.confirm ?? 'auto';
  const confirmation = await confirmDelivery({
    peer: options.peer,
    callingAet: options.callingAet,
    network: options.network,
    logger,
    mode,
    endpoint: options.commitmentEndpoint,
    commitmentUnusable: options.commitmentUnusable,
    onProgress: options.onConfirmProgress,
    resend: async (list) => {
      const again = await storeAll(options, list.map((i) => sent.byPath.get(i.path)!), () => undefined);
      return { stored: again.stored.map(sentInstance), failed: new Map(again.failed.map((f) => [f.path, f.reason])) };
    },
  }, sent.stored.map(sentInstance));
  for (const [path, reason] of confirmation.failed) failed.push({ path, reason });

  const results: PushedFile[] = [];
  const failedPaths = new Map(failed.map((f) => [f.path, f.reason]));
  for (const path of [...unreadable.map((u) => u.path), ...items.map((i) => i.path)]) {
    const reason = failedPaths.get(path);
    const by = confirmation.confirmed.get(path);
    const unconfirmed = confirmation.unconfirmed.get(path);
    const item = sent.byPath.get(path);
    const converted = item && sent.everStored.has(path) && item.sentAs !== item.transferSyntaxUid ? { convertedTo: item.sentAs } : {};
    if (reason !== undefined) results.push({ path, status: 'failed', reason, delivered: false });
    else if (by) results.push({ path, status: 'confirmed', confirmedBy: by, delivered: true, ...converted });
    else if (unconfirmed && mode === 'none') results.push({ path, status: 'stored', reason: unconfirmed.why, delivered: true, ...converted });
    else if (unconfirmed) results.push({ path, status: 'unconfirmed', reason: unconfirmed.why, delivered: unconfirmed.delivered, ...converted });
  }
  const confirmedBy: Partial<Record<ConfirmedBy, number>> = {};
  for (const by of confirmation.confirmed.values()) confirmedBy[by] = (confirmedBy[by] ?? 0) + 1;
  const delivered = results.filter((r) => r.delivered).length;
  return {
    files: total,
    confirm: mode,
    stored: sent.everStored.size,
    warnings: sent.warnings,
    converted: results.filter((r) => r.convertedTo).length,
    failed,
    confirmed: confirmation.confirmed.size,
    confirmedBy,
    // With none, stored files are unconfirmed too (not asked for): the summary says so.
    unconfirmed: results.filter((r) => r.status === 'unconfirmed' || r.status === 'stored').map((r) => ({ path: r.path, reason: r.reason!, delivered: r.delivered })),
    delivered,
    complete: delivered === total,
    warning: confirmation.warning,
    commitmentUnusable: confirmation.commitmentUnusable,
    results,
  };
}

function sentInstance(item: Item): SentInstance {
  return { path: item.path, sopClassUid: item.sopClassUid, sopInstanceUid: item.sopInstanceUid, studyInstanceUid: item.studyInstanceUid };
}

interface StoreAllResult {
  readonly stored: Item[];
  readonly failed: PushFailure[];
  readonly warnings: number;
  readonly byPath: Map<string, Item>;
  readonly everStored: Set<string>;
}

/**
 * C-STOREs the items over `network.associations` parallel associations, retrying transient failures;
 * throws when the very first association is refused (the peer is misconfigured or down).
 */
async function storeAll(options: PushOptions, items: readonly Item[], onDone: () => void): Promise<StoreAllResult> {
  const logger = options.logger ?? silentLogger;
  const failed: PushFailure[] = [];
  const stored: Item[] = [];
  let warnings = 0;
  let everAssociated = false;

  let queue = [...items];
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
          // The next file is read while the peer stores the current one (at most two small files in memory per association).
          let nextLoad: Promise<Loaded> | undefined = load(batch[0]);
          for (let i = 0; i < batch.length; i++) {
            const item = batch[i];
            const loaded = await nextLoad!;
            nextLoad = i + 1 < batch.length ? load(batch[i + 1]) : undefined;
            const outcome = await sendOne(assoc, options.peer, item, loaded, logger);
            if (outcome === 'retry') {
              // The rest of the batch was never sent: if it never is, say why.
              for (const rest of batch.slice(i + 1)) rest.lastError = `not sent: ${item.lastError}`;
              retry.push(...batch.slice(i));
              break;
            }
            if (outcome === 'stored' || outcome === 'warning') {
              stored.push(item);
              if (outcome === 'warning') warnings++;
            } else {
              failed.push({ path: item.path, reason: outcome.reason });
            }
            onDone();
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
  return { stored, failed, warnings, byPath: new Map(items.map((i) => [i.path, i])), everStored: new Set(stored.map((i) => i.path)) };
}

type SendOutcome = 'stored' | 'warning' | 'retry' | { reason: string };

async function sendOne(assoc: ScuAssociation, peer: Peer, item: Item, loaded: Loaded, logger: Logger): Promise<SendOutcome> {
  const target = syntaxes(item).find((ts) => assoc.findContext(item.sopClassUid, ts));
  if (!target) return { reason: refusal(assoc, peer, item) };
  if ('error' in loaded) return { reason: loaded.error };
  const { uids } = loaded;
  item.studyInstanceUid ??= uids.study;
  // The receiver files the instance under the dataset's own UIDs; the command must say the same.
  const sopClassUid = uids.sopClass || item.sopClassUid;
  const sopInstanceUid = uids.sopInstance || item.sopInstanceUid;
  if (sopClassUid !== item.sopClassUid) {
    return { reason: `SOP class in the dataset (${sopClassUid}) differs from the file meta information (${item.sopClassUid})` };
  }
  item.sopInstanceUid = sopInstanceUid;
  let dataset: Buffer | AsyncIterable<Buffer>;
  try {
    dataset = datasetIn(item, loaded, target);
  } catch (err) {
    return { reason: errorMessage(err) };
  }
  if (target !== item.transferSyntaxUid) {
    logger.info({ from: item.transferSyntaxUid, to: target }, `${formatPeer(peer)} refused the file's own transfer syntax: sending it converted losslessly`);
  }
  item.sentAs = target;
  try {
    const reply = await assoc.store({ sopClassUid, sopInstanceUid, transferSyntaxUid: target, dataset });
    const status = classifyStatus(reply.status);
    if (isDone(status)) return status.kind === 'warning' ? 'warning' : 'stored';
    item.lastError = `C-STORE ${describeStatus(status, reply.errorComment)}`;
    return status.transient ? 'retry' : { reason: item.lastError };
  } catch (err) {
    // The file could not be read while sending: a property of the file, not of the network.
    if (err instanceof PipelineError && err.code === 'E_IO') return { reason: err.message };
    // No final response (timeout, abort, connection lost): unknown outcome, so send it again.
    item.lastError = err instanceof Error ? err.message : String(err);
    return 'retry';
  }
}

/** Why no accepted context fits a file: every syntax it can travel in was refused (compressed ones have only their own). */
function refusal(assoc: ScuAssociation, peer: Peer, item: Item): string {
  const ts = transferSyntax(item.transferSyntaxUid)!;
  // Peers (Orthanc among them) answer "abstract syntax not supported" for a refused transfer syntax too.
  const said = assoc.refusedAbstractSyntax(item.sopClassUid) ? ' (it answered: SOP class not supported)' : '';
  const refused = `archive ${formatPeer(peer)} accepts none of ${syntaxes(item).map(describeSyntax).join(', ')} for SOP class ${item.sopClassUid}${said}`;
  return ts.encapsulated ? `${refused}; compressed pixel data is never transcoded` : refused;
}

/** Same transfer syntax per batch, bounded size, at most 128 presentation contexts (one or two per SOP class). */
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
    const maxClasses = Math.floor(MAX_CONTEXTS / contextsPerClass(list[0]));
    for (const item of list) {
      const newClass = !classes.has(item.sopClassUid);
      if (batch.length >= perAssociation || (newClass && classes.size >= maxClasses)) {
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

/**
 * Per SOP class, the batch's own syntax in a context of its own (so an archive that takes it is
 * never asked to choose a conversion instead), and its lossless alternatives in a second one.
 */
function contextsOf(batch: readonly Item[]): ProposedContext[] {
  const classes = [...new Set(batch.map((i) => i.sopClassUid))];
  const [own, ...alternatives] = syntaxes(batch[0]);
  return classes.flatMap((abstractSyntax) => [
    { abstractSyntax, transferSyntaxes: [own] },
    ...(alternatives.length ? [{ abstractSyntax, transferSyntaxes: alternatives }] : []),
  ]);
}

function contextsPerClass(item: Item): number {
  return syntaxes(item).length > 1 ? 2 : 1;
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
