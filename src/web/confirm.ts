/**
 * QIDO-RS confirmation of a DICOMweb push, overlapped with the sending: each STOW-RS batch's stored
 * instances are asked for by SOP Instance UID as soon as the archive has answered the batch, while
 * the next batches are sent. Whatever those queries did not find (an archive without UID list
 * matching, a failed query) is looked for again in a listing of its whole study once everything is
 * sent, with retries; only that listing can call an instance absent. As for C-FIND
 * (src/scu/confirm.ts): an archive that does not offer QIDO-RS to us, or keeps failing it, leaves
 * the instances unconfirmed, counted as delivered under auto (with a warning) and not under find.
 */
import type { ConfirmMode } from '../scu/confirm';
import type { NetworkOptions } from '../scu/options';
import { errorMessage } from '../errors';
import type { Logger } from '../util/logger';
import type { WebItem } from './files';
import type { WebClient } from './http-client';
import { listStudyInstances, type StudyListing } from './qido';
import { retryDelayMs, sleep } from './retry';

export interface Confirmation {
  readonly confirmed: ReadonlySet<string>;
  /** path → why not confirmed, and whether it counts as delivered all the same. */
  readonly unconfirmed: ReadonlyMap<string, { why: string; delivered: boolean }>;
  readonly warning?: string;
}

export class WebConfirmer {
  private readonly confirmed = new Set<string>();
  private readonly waiting: WebItem[][] = [];
  private readonly running = new Set<Promise<void>>();
  /** Set once a batch query found no QIDO-RS for us: the study listings say so, with retries. */
  private batchQueries: boolean;

  constructor(
    private readonly client: WebClient,
    private readonly mode: ConfirmMode,
    private readonly network: NetworkOptions,
    private readonly parallel: number,
    private readonly logger: Logger,
  ) {
    this.batchQueries = mode !== 'none';
  }

  /** Instances the archive has just called stored: asked for now, `parallel` queries at a time. */
  stored(items: readonly WebItem[]): void {
    if (!this.batchQueries || items.length === 0) return;
    this.waiting.push([...items]);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.parallel && this.waiting.length) {
      const next = this.waiting.shift()!;
      const run: Promise<void> = this.queryBatch(next).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  /** After the last batch: waits for the batch queries, then lists the studies of whatever they did not find. */
  async finish(stored: readonly WebItem[]): Promise<Confirmation> {
    const unconfirmed = new Map<string, { why: string; delivered: boolean }>();
    if (this.mode === 'none') {
      for (const item of stored) unconfirmed.set(item.path, { why: 'not asked for (confirm: none)', delivered: true });
      return { confirmed: this.confirmed, unconfirmed };
    }
    this.waiting.length = 0;
    this.batchQueries = false;
    while (this.running.size) await Promise.all(this.running);
    const byStudy = new Map<string, WebItem[]>();
    for (const item of stored) {
      if (this.confirmed.has(item.path)) continue;
      const list = byStudy.get(item.studyInstanceUid);
      if (list) list.push(item);
      else byStudy.set(item.studyInstanceUid, [item]);
    }
    let warning: string | undefined;
    const studies = [...byStudy];
    // Studies are listed `parallel` at a time: an archive's QIDO-RS may read every instance (Orthanc does).
    const worker = async (): Promise<void> => {
      for (let next = studies.shift(); next; next = studies.shift()) {
        const [study, list] = next;
        const listing = await this.listWithRetries(study);
        if (listing.kind === 'unavailable') {
          const auto = this.mode === 'auto';
          const why = auto ? `the archive offers no way to confirm: ${listing.why}` : listing.why;
          for (const item of list) unconfirmed.set(item.path, { why, delivered: auto });
          if (auto) warning = `stored but unconfirmed: ${why}`;
          continue;
        }
        for (const item of list) {
          if (listing.sopInstanceUids.has(item.sopInstanceUid)) this.confirmed.add(item.path);
          else unconfirmed.set(item.path, { why: "stored per the STOW-RS answer, but absent from the archive's QIDO-RS", delivered: false });
        }
      }
    };
    await Promise.all(Array.from({ length: this.parallel }, worker));
    return { confirmed: this.confirmed, unconfirmed, warning };
  }

  /** One try, no retries: what it does not find is listed again by finish(). */
  private async queryBatch(items: readonly WebItem[]): Promise<void> {
    const byStudy = new Map<string, WebItem[]>();
    for (const item of items) byStudy.set(item.studyInstanceUid, [...(byStudy.get(item.studyInstanceUid) ?? []), item]);
    for (const [study, list] of byStudy) {
      if (!this.batchQueries) return;
      try {
        const listing = await listStudyInstances(this.client, study, list.map((i) => i.sopInstanceUid));
        if (listing.kind === 'unavailable') {
          this.batchQueries = false;
          return;
        }
        for (const item of list) if (listing.sopInstanceUids.has(item.sopInstanceUid)) this.confirmed.add(item.path);
      } catch (err) {
        this.logger.debug({ why: errorMessage(err) }, 'a QIDO-RS query for a batch failed; its study will be listed after the push');
      }
    }
  }

  private async listWithRetries(study: string): Promise<StudyListing> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await listStudyInstances(this.client, study);
      } catch (err) {
        if (attempt >= this.network.retries) return { kind: 'unavailable', why: `QIDO-RS failed: ${errorMessage(err)}` };
        this.logger.warn({ attempt: attempt + 1, why: errorMessage(err) }, 'retrying a QIDO-RS request');
        await sleep(retryDelayMs(attempt, this.network.retryBackoffMs));
      }
    }
  }
}
