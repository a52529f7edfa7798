/**
 * Puts one received dataset on disk: the bytes exactly as received, behind a Part-10 meta header of
 * ours, at <dir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm, through temp file + fsync + rename
 * (+ fsync of the directory), so a Success answer means the file survives a crash.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { findElement } from '../dicom/dataset';
import { parseDataset } from '../dicom/parse';
import { buildMeta } from '../dicom/part10';
import { encodeMetaGroup } from '../dicom/serialize';
import { transferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';

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

export class InstanceWriter {
  private readonly knownDirs = new Set<string>();
  constructor(private readonly dir: string, private readonly fsync = true) {}

  async write(incoming: IncomingDataset): Promise<StoredInstance> {
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
    if (!this.knownDirs.has(seriesDir)) {
      mkdirSync(seriesDir, { recursive: true });
      this.knownDirs.add(seriesDir);
    }
    try {
      writeAtomic(seriesDir, path, [PREAMBLE, ...meta, dataset], this.fsync);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The directory was removed behind our back (e.g. a cleanup): recreate it once.
      mkdirSync(seriesDir, { recursive: true });
      writeAtomic(seriesDir, path, [PREAMBLE, ...meta, dataset], this.fsync);
    }
    return { path, ...uids, bytes: dataset.length };
  }
}

/**
 * Temp name beside the target, fsync, rename over any earlier copy, fsync of the directory.
 * Synchronous on purpose: measured here, the same steps through fs.promises cost 1.3 ms per file
 * (8 thread-pool round trips) against 0.2 ms, and Orthanc waits for each answer before sending on.
 */
function writeAtomic(dir: string, path: string, chunks: Buffer[], fsync: boolean): void {
  const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o640);
  try {
    let pending = chunks;
    while (pending.length) {
      let written = writevSync(fd, pending);
      let i = 0;
      while (i < pending.length && written >= pending[i].length) written -= pending[i++].length;
      pending = pending.slice(i);
      if (written > 0) pending[0] = pending[0].subarray(written);
    }
    if (fsync) fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(temp);
    } catch {
      /* never created or already renamed */
    }
    throw err;
  }
  if (fsync) {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
