/**
 * Puts one received dataset on disk: the bytes exactly as received, behind a Part-10 meta header of
 * ours, at <dir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm, through temp file + fsync + rename, so
 * a Success answer means the file's bytes survive a crash; the directory fsyncs that make the name
 * durable are batched (durable.ts says exactly what that trades).
 */
import { join } from 'node:path';
import { findElement } from '../dicom/dataset';
import { parseDataset } from '../dicom/parse';
import { buildMeta } from '../dicom/part10';
import { encodeMetaGroup } from '../dicom/serialize';
import { transferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';
import { DIR_SYNC_DELAY_MS, DirectorySync, TempFiles, makeDirectoryDurably, writeFileAtomic } from './durable';

export interface IncomingDataset {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly callingAet: string;
  readonly chunks: readonly Buffer[];
}

export interface StoredInstance {
  readonly path: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly bytes: number;
}

/** A dataset we refuse (not a disk problem): answered with a "cannot understand"/mismatch status. */
export class RejectedDataset extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** UIDs become path components: only digits and dots, never "..", "/" or anything else. */
export function isSafeUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && UID.test(uid);
}

export interface RoutingUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}

/** Reads the UIDs that route the file; checks them against the C-STORE command. */
export function routingUids(dataset: Buffer, incoming: IncomingDataset): RoutingUids {
  const ts = transferSyntax(incoming.transferSyntaxUid);
  if (!ts) throw new RejectedDataset(0xc000, 'unsupported transfer syntax');
  let elements;
  try {
    elements = parseDataset(dataset, ts);
  } catch (err) {
    throw new RejectedDataset(0xc000, `dataset does not parse: ${(err as Error).message}`);
  }
  const text = (tag: number): string => {
    const el = findElement(elements, tag);
    return el ? decodeText(el) : '';
  };
  const uids = {
    studyInstanceUid: text(0x0020000d),
    seriesInstanceUid: text(0x0020000e),
    sopInstanceUid: text(0x00080018),
    sopClassUid: text(0x00080016),
  };
  // A dataset without SOP class/instance UIDs is invalid but routable by its command; different ones are not.
  if ((uids.sopInstanceUid && uids.sopInstanceUid !== incoming.sopInstanceUid) || (uids.sopClassUid && uids.sopClassUid !== incoming.sopClassUid)) {
    throw new RejectedDataset(0xa900, 'SOP class/instance UID of the dataset differ from the C-STORE command');
  }
  const routed = { ...uids, sopInstanceUid: incoming.sopInstanceUid, sopClassUid: incoming.sopClassUid };
  for (const [name, uid] of Object.entries(routed)) {
    if (!isSafeUid(uid)) throw new RejectedDataset(0xc000, `${name} missing or not a valid UID`);
  }
  return routed;
}

export function instancePath(dir: string, uids: RoutingUids): string {
  return join(dir, uids.studyInstanceUid, uids.seriesInstanceUid, `${uids.sopInstanceUid}.dcm`);
}

const PREAMBLE = (() => {
  const b = Buffer.alloc(132);
  b.write('DICM', 128, 'latin1');
  return b;
})();

export interface InstanceWriterOptions {
  /** fsync files and directories (default true); false only for tests and throw-away output. */
  readonly fsync?: boolean;
  /** Longest time a rename waits for its directory fsync (default DIR_SYNC_DELAY_MS). */
  readonly dirSyncDelayMs?: number;
  /** A batched directory fsync failed (nobody is waiting for it): log it. */
  readonly onSyncError?: (err: Error, dir: string) => void;
}

export class InstanceWriter {
  /** Series directories known to exist (durably), or being created: later writers wait for the same promise. */
  private readonly dirs = new Map<string, Promise<void>>();
  private readonly fsync: boolean;
  private readonly dirSync: DirectorySync;
  private readonly temps = new TempFiles();

  constructor(private readonly dir: string, options: InstanceWriterOptions = {}) {
    this.fsync = options.fsync ?? true;
    this.dirSync = new DirectorySync(options.dirSyncDelayMs ?? DIR_SYNC_DELAY_MS, options.onSyncError ?? (() => undefined));
  }

  /** `prepareNext`: create the temp file for the series' next instance while the peer prepares it. */
  async write(incoming: IncomingDataset, prepareNext = false): Promise<StoredInstance> {
    const dataset = incoming.chunks.length === 1 ? incoming.chunks[0] : Buffer.concat(incoming.chunks);
    const uids = routingUids(dataset, incoming);
    const path = instancePath(this.dir, uids);
    const meta = encodeMetaGroup(
      buildMeta({
        sopClassUid: incoming.sopClassUid,
        sopInstanceUid: incoming.sopInstanceUid,
        transferSyntaxUid: incoming.transferSyntaxUid,
        sourceAeTitle: incoming.callingAet || undefined,
      }),
    );
    const seriesDir = join(this.dir, uids.studyInstanceUid, uids.seriesInstanceUid);
    const chunks = [PREAMBLE, ...meta, dataset];
    await this.ensureDirectory(seriesDir);
    try {
      writeFileAtomic(await this.temps.take(seriesDir), path, chunks, this.fsync);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The directory was removed behind our back (e.g. a cleanup): recreate it once.
      this.dirs.delete(seriesDir);
      await this.ensureDirectory(seriesDir);
      writeFileAtomic(await this.temps.take(seriesDir), path, chunks, this.fsync);
    }
    if (this.fsync) this.dirSync.mark(seriesDir);
    if (prepareNext) this.temps.prepare(seriesDir);
    return { path, ...uids, bytes: dataset.length };
  }

  /** Removes the temp files created ahead (an association ended: nothing is left behind between associations). */
  discardSpares(): Promise<void> {
    return this.temps.clear();
  }

  /** Makes every rename so far durable (directory fsyncs); call before releasing an association and when stopping. */
  flush(): Promise<void> {
    return this.fsync ? this.dirSync.flush() : Promise.resolve();
  }

  private ensureDirectory(seriesDir: string): Promise<void> {
    let ready = this.dirs.get(seriesDir);
    if (!ready) {
      ready = makeDirectoryDurably(seriesDir, this.fsync);
      this.dirs.set(seriesDir, ready);
      ready.catch(() => this.dirs.delete(seriesDir));
    }
    return ready;
  }
}
