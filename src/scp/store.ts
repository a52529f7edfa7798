/**
 * Puts one received dataset on disk as it arrives: the bytes exactly as received, behind a Part-10
 * meta header of ours, at <dir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm, through temp file +
 * fsync + rename, so a Success answer means the file's bytes survive a crash; the directory fsyncs
 * that make the name durable are batched (durable.ts says exactly what that trades). Fragments go to
 * the temp file as they come (memory stays bounded whatever the instance's size); only the start of
 * the dataset is held until the UIDs that route it are read. A different instance under a SOP
 * Instance UID already stored is kept beside it (<SOP>.dup-<n>.dcm), never over it.
 */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findElement, type Element } from '../dicom/dataset';
import { parseDatasetHead } from '../dicom/parse';
import { buildMeta, readFileHeader } from '../dicom/part10';
import { encodeMetaGroup } from '../dicom/serialize';
import { transferSyntax, type TransferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';
import { sameBytesFrom } from '../util/same-content';
import { DIR_SYNC_DELAY_MS, DirectorySync, TempFiles, closeTemp, discardTemp, makeDirectoryDurably, makeDirectoryDurablySync, writeChunks, type TempFile } from './durable';

/** What the C-STORE command and the association say about the dataset that follows. */
export interface IncomingDataset {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly callingAet: string;
}

export interface StoredInstance {
  readonly path: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly bytes: number;
  /** A different instance with this SOP Instance UID was already there: this one was kept beside it. */
  readonly duplicate: boolean;
  /** Identical to an instance already stored: nothing new was written. */
  readonly identical: boolean;
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

/** The routing UIDs are read from at most this much of the dataset's start (they come before group 0020's end). */
export const ROUTING_HEAD_LIMIT = 4 << 20;
/**
 * Fragments are written in batches of this much: a small instance (most are one to a few PDUs) costs
 * one writev, as when whole datasets were held; a large one stays within this much memory.
 */
const WRITE_BATCH_BYTES = 1 << 20;
/** First tag after the routing UIDs: the head is parsed up to it. */
const AFTER_ROUTING = 0x0020000f;

/** Reads the UIDs that route the file from the dataset's first elements; checks them against the C-STORE command. */
export function routingUids(head: readonly Element[], incoming: IncomingDataset): RoutingUids {
  const text = (tag: number): string => {
    const el = findElement(head as Element[], tag);
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
  return join(dir, uids.studyInstanceUid, uids.seriesInstanceUid, instanceFileName(uids.sopInstanceUid, 0));
}

/** `<SOP>.dcm` for the first instance with a SOP Instance UID, `<SOP>.dup-<n>.dcm` for the n-th different one after it. */
export function instanceFileName(sopInstanceUid: string, copy: number): string {
  return copy === 0 ? `${sopInstanceUid}.dcm` : `${sopInstanceUid}.dup-${copy}.dcm`;
}

/** The SOP Instance UID (and copy number) a received file's name carries; undefined for other names. */
export function parseInstanceFileName(path: string): { sopInstanceUid: string; copy: number } | undefined {
  const m = /^([0-9.]+?)(?:\.dup-([1-9][0-9]*))?\.dcm$/.exec(basename(path));
  return m ? { sopInstanceUid: m[1], copy: m[2] ? Number(m[2]) : 0 } : undefined;
}

/**
 * Gives a complete, durable temp file its final name without ever replacing a different instance:
 * the first free name of <SOP>.dcm, <SOP>.dup-1.dcm, ...; an instance whose dataset equals one
 * already there is dropped as a repeat (a retried C-MOVE sends the same bytes again). Synchronous,
 * so two associations of this process cannot take the same name.
 */
export function placeInstance(tempPath: string, tempDatasetOffset: number, path: string): { path: string; copy: number; identical: boolean } {
  for (let copy = 0; ; copy++) {
    const candidate = copy === 0 ? path : join(path, '..', instanceFileName(basename(path, '.dcm'), copy));
    if (!existsSync(candidate)) {
      renameSync(tempPath, candidate);
      return { path: candidate, copy, identical: false };
    }
    if (sameDataset(candidate, tempPath, tempDatasetOffset)) {
      unlinkSync(tempPath);
      return { path: candidate, copy, identical: true };
    }
  }
}

/** Same dataset bytes (the meta headers may differ, e.g. in Source AE Title). */
function sameDataset(existing: string, temp: string, tempDatasetOffset: number): boolean {
  let offset: number;
  try {
    offset = readFileHeader(existing).datasetOffset;
  } catch {
    return false; // not one of ours: certainly not the same instance as what we received
  }
  return sameBytesFrom(existing, offset, temp, tempDatasetOffset);
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

/** One dataset being received: write() each fragment as it arrives, then end() (or abort()). */
export interface IncomingInstance {
  write(fragment: Buffer): void;
  /** The last fragment came: resolves once the file is durable under its final name; rejects with RejectedDataset or a file-system error. */
  end(): Promise<StoredInstance>;
  /** The association ended mid-dataset: nothing is kept. */
  abort(): void;
}

export class InstanceWriter {
  /** Series directories known to exist (durably), or being created: later writers wait for the same promise. */
  private readonly dirs = new Map<string, Promise<void>>();
  /** Series directories known to exist already: a store going there takes its temp file there. */
  private readonly ready = new Set<string>();
  private readonly fsync: boolean;
  private readonly dirSync: DirectorySync;
  private readonly temps = new TempFiles();

  constructor(private readonly dir: string, options: InstanceWriterOptions = {}) {
    this.fsync = options.fsync ?? true;
    this.dirSync = new DirectorySync(options.dirSyncDelayMs ?? DIR_SYNC_DELAY_MS, options.onSyncError ?? (() => undefined));
  }

  /**
   * Starts receiving one dataset into a hidden temp file (in its series directory when that exists,
   * else at the top of the output directory), renamed into place once complete. `prepareNext`: create
   * the temp file for the series' next instance while the peer prepares it.
   */
  begin(incoming: IncomingDataset, prepareNext = false): IncomingInstance {
    return new Receiving(this, incoming, prepareNext);
  }

  /** Removes the temp files created ahead (an association ended: nothing is left behind between associations). */
  discardSpares(): void {
    this.temps.clear();
  }

  /** Makes every rename so far durable (directory fsyncs); call before releasing an association and when stopping. */
  flush(): Promise<void> {
    return this.fsync ? this.dirSync.flush() : Promise.resolve();
  }

  /**
   * @internal for Receiving. A temp file in the series directory when it exists already (the rename
   * then stays within one directory, as cheap as it gets: every instance of a series but the first);
   * else at the top of the output directory, recreated when missing (first store, or removed).
   */
  takeTemp(seriesDir: string): TempFile {
    if (this.ready.has(seriesDir)) {
      try {
        return this.temps.take(seriesDir);
      } catch {
        this.ready.delete(seriesDir); // removed behind our back: the top directory will do
      }
    }
    try {
      return this.temps.take(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.dirs.clear(); // whatever we created under it is gone too
      this.ready.clear();
      makeDirectoryDurablySync(this.dir, this.fsync);
      return this.temps.take(this.dir);
    }
  }

  /** @internal for Receiving */
  finished(seriesDir: string, prepareNext: boolean): void {
    if (this.fsync) this.dirSync.mark(seriesDir);
    this.ready.add(seriesDir);
    if (prepareNext) this.temps.prepare(seriesDir);
  }

  /** @internal */
  get root(): string {
    return this.dir;
  }

  /** @internal */
  get durable(): boolean {
    return this.fsync;
  }

  /** @internal */
  ensureDirectory(seriesDir: string, again = false): Promise<void> {
    if (again) {
      this.dirs.delete(seriesDir);
      this.ready.delete(seriesDir);
    }
    let ready = this.dirs.get(seriesDir);
    if (!ready) {
      ready = makeDirectoryDurably(seriesDir, this.fsync);
      this.dirs.set(seriesDir, ready);
      ready.catch(() => this.dirs.delete(seriesDir));
    }
    return ready;
  }
}

/**
 * The state of one dataset being received. Fragments are held only until the routing UIDs are read
 * (the first fragment, almost always); then they go straight to the temp file. The first error (a
 * refused dataset, a full disk) stops writing; the rest of the dataset is still taken from the
 * connection and dropped, and end() reports the error.
 */
class Receiving implements IncomingInstance {
  private readonly ts: TransferSyntax | undefined;
  private temp?: TempFile;
  private head: Buffer[] = [];
  private headBytes = 0;
  private nextParseAt = 0;
  private uids?: RoutingUids;
  private directory?: Promise<void>;
  private error?: unknown;
  private bytes = 0;
  private datasetOffset = 0;
  private done = false;
  /** Fragments received since the last write: written together (one writev per WRITE_BATCH_BYTES, or at the end). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly writer: InstanceWriter, private readonly incoming: IncomingDataset, private readonly prepareNext: boolean) {
    this.ts = transferSyntax(incoming.transferSyntaxUid);
    if (!this.ts) this.error = new RejectedDataset(0xc000, 'unsupported transfer syntax');
  }

  write(fragment: Buffer): void {
    if (this.error || this.done) return;
    this.bytes += fragment.length;
    try {
      if (this.uids) {
        this.pending.push(fragment);
        this.pendingBytes += fragment.length;
        if (this.pendingBytes >= WRITE_BATCH_BYTES) this.writePending();
        return;
      }
      this.head.push(fragment);
      this.headBytes += fragment.length;
      // Parsed again only when the held start has doubled: a long head costs linear time, not quadratic.
      if (this.headBytes >= this.nextParseAt) {
        this.nextParseAt = this.headBytes * 2;
        this.route(this.headBytes >= ROUTING_HEAD_LIMIT);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  async end(): Promise<StoredInstance> {
    this.done = true;
    try {
      if (!this.error && !this.uids) this.route(true);
    } catch (err) {
      this.fail(err);
    }
    if (!this.error) {
      try {
        this.writePending();
      } catch (err) {
        this.fail(err);
      }
    }
    if (this.error) throw this.error;
    const temp = this.temp!;
    const uids = this.uids!;
    this.temp = undefined;
    closeTemp(temp, this.writer.durable); // removes it on failure
    const seriesDir = join(this.writer.root, uids.studyInstanceUid, uids.seriesInstanceUid);
    const path = instancePath(this.writer.root, uids);
    let placed;
    try {
      await this.directory;
      placed = placeInstance(temp.path, this.datasetOffset, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(temp.path)) return this.lose(temp, err);
      // The directory was removed behind our back (e.g. a cleanup): recreate it once.
      try {
        await this.writer.ensureDirectory(seriesDir, true);
        placed = placeInstance(temp.path, this.datasetOffset, path);
      } catch (again) {
        return this.lose(temp, again);
      }
    }
    if (!placed.identical) this.writer.finished(seriesDir, this.prepareNext);
    return { ...uids, path: placed.path, bytes: this.bytes, duplicate: placed.copy > 0, identical: placed.identical };
  }

  abort(): void {
    this.done = true;
    this.fail(new Error('association ended before the dataset was complete'));
  }

  /** Reads the routing UIDs from the held start; once known, opens the temp file and writes what is held. */
  private route(final: boolean): void {
    const head = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    this.head = [head];
    let elements;
    try {
      elements = parseDatasetHead(head, this.ts!, AFTER_ROUTING, final);
    } catch (err) {
      throw new RejectedDataset(0xc000, `dataset does not parse: ${(err as Error).message}`);
    }
    if (!elements) return;
    const uids = routingUids(elements, this.incoming);
    const meta = encodeMetaGroup(
      buildMeta({
        sopClassUid: this.incoming.sopClassUid,
        sopInstanceUid: this.incoming.sopInstanceUid,
        transferSyntaxUid: this.incoming.transferSyntaxUid,
        sourceAeTitle: this.incoming.callingAet || undefined,
      }),
    );
    const seriesDir = join(this.writer.root, uids.studyInstanceUid, uids.seriesInstanceUid);
    this.directory = this.writer.ensureDirectory(seriesDir);
    this.directory.catch(() => undefined); // awaited in end()
    this.temp = this.writer.takeTemp(seriesDir);
    this.datasetOffset = PREAMBLE.length + meta.reduce((n, b) => n + b.length, 0);
    this.pending = [PREAMBLE, ...meta, head];
    this.pendingBytes = this.datasetOffset + head.length;
    if (this.pendingBytes >= WRITE_BATCH_BYTES) this.writePending();
    this.uids = uids;
    this.head = [];
  }

  /** Writes the fragments held since the last write, in one writev. */
  private writePending(): void {
    if (this.pending.length === 0) return;
    writeChunks(this.temp!.fd, this.pending);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private fail(err: unknown): void {
    this.error ??= err;
    this.head = [];
    this.pending = [];
    if (this.temp) discardTemp(this.temp);
    this.temp = undefined;
  }

  /** Placing the closed temp file failed: remove it, report why. */
  private lose(temp: TempFile, err: unknown): never {
    try {
      unlinkSync(temp.path);
    } catch {
      /* gone with its directory */
    }
    throw err;
  }
}
