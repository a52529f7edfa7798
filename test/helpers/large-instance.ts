/**
 * Large instances for memory tests, written by streaming (never held in memory): a multi-frame 16-bit
 * grayscale image whose Pixel Data is a 1 MiB pseudo-random block repeated, each copy stamped with its
 * index so a lost, repeated or reordered block changes the bytes.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, openSync, writeFileSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw } from 'node:zlib';
import type { Element } from '../../src/dicom/dataset';
import { parseMetaGroup } from '../../src/dicom/parse';
import { buildMeta } from '../../src/dicom/part10';
import { encodeMetaGroup } from '../../src/dicom/serialize';
import { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, transferSyntax } from '../../src/dicom/transfer-syntax';
import { part10Bytes, text } from './dicom-builder';
import { newUid } from './synthetic';

export const BLOCK_BYTES = 1 << 20;
const SIDE = 512;
/** Multi-frame Grayscale Word Secondary Capture. */
const SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7.3';

export interface LargeInstance {
  readonly path: string;
  readonly sopInstanceUid: string;
  readonly frames: number;
  /** File offset of the Pixel Data value. */
  readonly pixelOffset: number;
  readonly pixelBytes: number;
}

/** Writes a Part-10 file of about `mebibytes` MiB in tsUid (Explicit/Implicit VR LE or Explicit VR BE). */
export function writeLargeInstance(path: string, mebibytes: number, tsUid: string): LargeInstance {
  const { header, pixelHeader, instance } = layout(path, mebibytes, tsUid);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    writeSync(fd, pixelHeader);
    for (const block of pixelBlocks(instance.pixelBytes)) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
  return instance;
}

/**
 * The same image as an Explicit VR LE instance whose dataset is then deflated as it is written
 * (Deflated Explicit VR Little Endian); pixelOffset is the Pixel Data value's offset in the inflated
 * dataset. Returns the meta group's length too: the dataset starts after it.
 */
export async function writeLargeDeflatedInstance(path: string, mebibytes: number): Promise<LargeInstance & { datasetOffset: number }> {
  const { header, pixelHeader, instance } = layout(path, mebibytes, EXPLICIT_LE);
  const meta = buildMeta({ sopClassUid: SOP_CLASS, sopInstanceUid: instance.sopInstanceUid, transferSyntaxUid: DEFLATED_LE });
  const deflatedMeta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), ...encodeMetaGroup(meta)]);
  writeFileSync(path, deflatedMeta);
  const dataset = header.subarray(parseMetaGroup(header).end);
  async function* bytes(): AsyncGenerator<Buffer> {
    yield dataset;
    yield pixelHeader;
    yield* pixelBlocks(instance.pixelBytes);
  }
  await pipeline(Readable.from(bytes()), createDeflateRaw({ level: 1 }), createWriteStream(path, { flags: 'a' }));
  return { ...instance, pixelOffset: dataset.length + pixelHeader.length, datasetOffset: deflatedMeta.length };
}

function* pixelBlocks(pixelBytes: number): Generator<Buffer> {
  const block = randomBytes(BLOCK_BYTES);
  for (let done = 0, i = 0; done < pixelBytes; done += BLOCK_BYTES, i++) {
    block.writeUInt32LE(i, 0);
    yield Buffer.from(block.subarray(0, Math.min(BLOCK_BYTES, pixelBytes - done)));
  }
}

function layout(path: string, mebibytes: number, tsUid: string): { header: Buffer; pixelHeader: Buffer; instance: LargeInstance } {
  const ts = transferSyntax(tsUid)!;
  const frames = Math.max(1, Math.floor((mebibytes * BLOCK_BYTES) / (SIDE * SIDE * 2)));
  const pixelBytes = frames * SIDE * SIDE * 2;
  const sopInstanceUid = newUid();
  const us = (tag: number, value: number): Element => {
    const b = Buffer.alloc(2);
    if (ts.littleEndian) b.writeUInt16LE(value);
    else b.writeUInt16BE(value);
    return { tag, vr: 'US', value: b };
  };
  const header = part10Bytes([
    text(0x00080016, 'UI', SOP_CLASS),
    text(0x00080018, 'UI', sopInstanceUid),
    text(0x00080060, 'CS', 'OT'),
    text(0x00100020, 'LO', 'LARGE'),
    text(0x0020000d, 'UI', newUid()),
    text(0x0020000e, 'UI', newUid()),
    us(0x00280002, 1),
    text(0x00280004, 'CS', 'MONOCHROME2'),
    text(0x00280008, 'IS', String(frames)),
    us(0x00280010, SIDE),
    us(0x00280011, SIDE),
    us(0x00280100, 16),
    us(0x00280101, 16),
    us(0x00280102, 15),
    us(0x00280103, 0),
  ], tsUid);
  const pixelHeader = Buffer.alloc(ts.explicitVr ? 12 : 8);
  if (tsUid === EXPLICIT_BE) {
    pixelHeader.writeUInt16BE(0x7fe0, 0);
    pixelHeader.writeUInt16BE(0x0010, 2);
  } else {
    pixelHeader.writeUInt16LE(0x7fe0, 0);
    pixelHeader.writeUInt16LE(0x0010, 2);
  }
  if (ts.explicitVr) {
    pixelHeader.write('OW', 4, 'latin1');
    if (ts.littleEndian) pixelHeader.writeUInt32LE(pixelBytes, 8);
    else pixelHeader.writeUInt32BE(pixelBytes, 8);
  } else {
    pixelHeader.writeUInt32LE(pixelBytes, 4);
  }
  return { header, pixelHeader, instance: { path, sopInstanceUid, frames, pixelOffset: header.length + pixelHeader.length, pixelBytes } };
}
