/**
 * The P-DATA-TF side of the upper layer (PS3.8 §9.3.5, PS3.7 Annex E), done here rather than by
 * dcmjs-dimse: cutting the socket stream into PDUs, PDUs into PDVs, PDVs into DIMSE messages, and
 * messages back into PDUs. Values stay subarrays of the received buffers (no copies), and a PDU
 * spread over several socket reads is joined once (dcmjs-dimse re-concatenates on every read).
 */
import { decodeCommand, encodeCommand, type DimseCommand, type EventReportRequest } from './dimse-command';

export const PDU_TYPE = {
  ASSOCIATE_RQ: 0x01,
  ASSOCIATE_AC: 0x02,
  ASSOCIATE_RJ: 0x03,
  P_DATA_TF: 0x04,
  RELEASE_RQ: 0x05,
  RELEASE_RP: 0x06,
  ABORT: 0x07,
} as const;

/** Largest PDU we accept from a peer, whatever it announces: protects memory from a bogus length. */
export const MAX_INCOMING_PDU = 64 * 1024 * 1024;
/** Fragment size we send when the peer sets no limit (Maximum Length 0). */
export const UNLIMITED_PDU_FRAGMENT = 1024 * 1024;
/** A command set is a few hundred bytes; more is a broken or hostile peer. */
const MAX_COMMAND_BYTES = 64 * 1024;

export class PduError extends Error {}

/** Cuts a byte stream into whole PDUs (type byte, reserved byte, 32-bit big-endian length, body). */
export class PduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stopped = false;

  constructor(private readonly onPdu: (pdu: Buffer) => void, private readonly maxPduBytes = MAX_INCOMING_PDU) {}

  /** Feeds socket bytes; calls onPdu for each complete PDU. Throws PduError on a malformed stream. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped && this.buffered >= 6) {
      const head = this.peek(6);
      const type = head[0];
      if (type < PDU_TYPE.ASSOCIATE_RQ || type > PDU_TYPE.ABORT) throw new PduError(`unknown PDU type 0x${type.toString(16)}`);
      const length = head.readUInt32BE(2);
      if (length > this.maxPduBytes) throw new PduError(`PDU of ${length} bytes exceeds the ${this.maxPduBytes}-byte limit`);
      const total = 6 + length;
      if (this.buffered < total) return;
      this.onPdu(this.take(total));
    }
  }

  /** Drops whatever is buffered and ignores further input (connection closing). */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const part = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, part);
      filled += part;
      if (part === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part);
    }
    return out;
  }
}

export interface Pdv {
  readonly pcId: number;
  readonly command: boolean;
  readonly last: boolean;
  readonly value: Buffer;
}

/** The PDVs of a P-DATA-TF PDU, values as subarrays of it. */
export function parsePDataTf(pdu: Buffer): Pdv[] {
  if (pdu[0] !== PDU_TYPE.P_DATA_TF) throw new PduError('not a P-DATA-TF PDU');
  const end = 6 + pdu.readUInt32BE(2);
  if (end > pdu.length) throw new PduError('truncated P-DATA-TF PDU');
  const pdvs: Pdv[] = [];
  let pos = 6;
  while (pos < end) {
    if (pos + 6 > end) throw new PduError('truncated PDV item header');
    const itemLength = pdu.readUInt32BE(pos);
    if (itemLength < 2 || pos + 4 + itemLength > end) throw new PduError(`PDV item length ${itemLength} out of range`);
    const control = pdu[pos + 5];
    pdvs.push({ pcId: pdu[pos + 4], command: (control & 1) !== 0, last: (control & 2) !== 0, value: pdu.subarray(pos + 6, pos + 4 + itemLength) });
    pos += 4 + itemLength;
  }
  return pdvs;
}

export interface DimseMessage {
  readonly pcId: number;
  readonly command: DimseCommand;
  /** The dataset as received: PDV values in order (subarrays of the PDUs). Absent when none followed or it went to a sink. */
  readonly dataset?: readonly Buffer[];
  readonly datasetLength: number;
  /** The sink that took the dataset's fragments as they arrived (see DatasetSinks). */
  readonly sink?: DatasetSink;
}

/** An N-EVENT-REPORT-RQ message as the request our handlers see. */
export function eventReportOf(message: DimseMessage, callingAet: string, transferSyntaxUid: string): EventReportRequest {
  const { command } = message;
  return {
    callingAet,
    sopClassUid: command.affectedSopClassUid ?? '',
    sopInstanceUid: command.affectedSopInstanceUid ?? '',
    eventTypeId: command.eventTypeId ?? 0,
    transferSyntaxUid,
    dataset: message.dataset,
  };
}

/** Takes a dataset's fragments as they arrive (e.g. into a file), so a large one is never held whole. */
export interface DatasetSink {
  write(fragment: Buffer): void;
  /** The connection ended before the dataset's last fragment. */
  abort(): void;
}

/** Called when a command announcing a dataset is complete: a sink for that dataset, or undefined to collect it in memory. May throw PduError. */
export type DatasetSinks = (pcId: number, command: DimseCommand) => DatasetSink | undefined;

/** Joins PDVs into DIMSE messages: command fragments, then (when announced) dataset fragments. */
export class MessageAssembler {
  private pcId: number | undefined;
  private commandParts: Buffer[] = [];
  private commandBytes = 0;
  private command: DimseCommand | undefined;
  private data: Buffer[] = [];
  private dataLength = 0;
  private sink: DatasetSink | undefined;

  constructor(private readonly sinks?: DatasetSinks) {}

  /** Returns the message this PDV completes, if any. Throws PduError on a protocol violation. */
  push(pdv: Pdv): DimseMessage | undefined {
    if (this.pcId !== undefined && pdv.pcId !== this.pcId) {
      throw new PduError(`PDV for presentation context ${pdv.pcId} in the middle of a message on context ${this.pcId}`);
    }
    this.pcId = pdv.pcId;
    if (!this.command) {
      if (!pdv.command) throw new PduError('dataset fragment received before its command');
      this.commandParts.push(pdv.value);
      this.commandBytes += pdv.value.length;
      if (this.commandBytes > MAX_COMMAND_BYTES) throw new PduError(`command set larger than ${MAX_COMMAND_BYTES} bytes`);
      if (!pdv.last) return undefined;
      const bytes = this.commandParts.length === 1 ? this.commandParts[0] : Buffer.concat(this.commandParts);
      this.commandParts = [];
      this.commandBytes = 0;
      let command: DimseCommand;
      try {
        command = decodeCommand(bytes);
      } catch (err) {
        throw new PduError(`malformed command set: ${(err as Error).message}`);
      }
      if (command.hasDataset) {
        this.command = command;
        this.sink = this.sinks?.(pdv.pcId, command);
        return undefined;
      }
      this.pcId = undefined;
      return { pcId: pdv.pcId, command, datasetLength: 0 };
    }
    if (pdv.command) throw new PduError('command fragment received while a dataset was expected');
    if (this.sink) this.sink.write(pdv.value);
    else this.data.push(pdv.value);
    this.dataLength += pdv.value.length;
    if (!pdv.last) return undefined;
    const message: DimseMessage = this.sink
      ? { pcId: pdv.pcId, command: this.command, sink: this.sink, datasetLength: this.dataLength }
      : { pcId: pdv.pcId, command: this.command, dataset: this.data, datasetLength: this.dataLength };
    this.pcId = undefined;
    this.command = undefined;
    this.sink = undefined;
    this.data = [];
    this.dataLength = 0;
    return message;
  }

  /** The connection ended: a dataset still arriving into a sink is abandoned. */
  abandon(): void {
    this.sink?.abort();
    this.sink = undefined;
  }

  /** True between the first fragment of a message and its last one. */
  get busy(): boolean {
    return this.pcId !== undefined;
  }
}

/**
 * The PDUs of one message, ready for one writev: the command in its own PDU, then the dataset in
 * PDUs of at most `peerMaxPdu` (the peer's Maximum Length Received: the PDU length field), one PDV
 * each. Dataset fragments are subarrays of `dataset`: nothing is copied.
 */
export function encodeMessage(pcId: number, command: DimseCommand, dataset: Buffer | undefined, peerMaxPdu: number): Buffer[] {
  const commandBytes = encodeCommand(command);
  const fragment = fragmentSize(peerMaxPdu);
  const out: Buffer[] = [];
  for (let at = 0; at < commandBytes.length || at === 0; at += fragment) {
    const part = commandBytes.subarray(at, at + fragment);
    out.push(Buffer.concat([pdvHeader(pcId, part.length, true, at + fragment >= commandBytes.length), part]));
  }
  if (dataset) {
    for (let at = 0; at < dataset.length || at === 0; at += fragment) {
      const part = dataset.subarray(at, at + fragment);
      out.push(pdvHeader(pcId, part.length, false, at + fragment >= dataset.length), part);
    }
  }
  return out;
}

/** Dataset fragment size for a peer's Maximum Length Received (0: no limit): the PDU minus its 6-byte PDV item header. */
export function fragmentSize(peerMaxPdu: number): number {
  return Math.max(1, (peerMaxPdu > 0 ? Math.min(peerMaxPdu, UNLIMITED_PDU_FRAGMENT) : UNLIMITED_PDU_FRAGMENT) - 6);
}

/**
 * Cuts a dataset that arrives in pieces (read from disk, converted on the way) into P-DATA-TF PDUs
 * of `fragment` bytes, one PDV each, without joining the pieces: each PDU is a header followed by
 * subarrays. The last fragment is held back until end(), which marks it last.
 */
export class DatasetFragmenter {
  private parts: Buffer[] = [];
  private queued = 0;

  constructor(private readonly pcId: number, private readonly fragment: number) {}

  /** The buffers to write for the full fragments now available (all but the last). */
  push(piece: Buffer): Buffer[] {
    if (piece.length === 0) return [];
    this.parts.push(piece);
    this.queued += piece.length;
    const out: Buffer[] = [];
    while (this.queued > this.fragment) this.emit(this.fragment, false, out);
    return out;
  }

  /** The last fragment (possibly empty), marked last. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    this.emit(this.queued, true, out);
    return out;
  }

  private emit(length: number, last: boolean, out: Buffer[]): void {
    out.push(pdvHeader(this.pcId, length, false, last));
    let left = length;
    while (left > 0) {
      const part = this.parts[0];
      if (part.length <= left) {
        out.push(part);
        this.parts.shift();
        left -= part.length;
      } else {
        out.push(part.subarray(0, left));
        this.parts[0] = part.subarray(left);
        left = 0;
      }
    }
    this.queued -= length;
  }
}

/** PDU header + PDV item header for one fragment: 12 bytes. */
function pdvHeader(pcId: number, fragmentLength: number, command: boolean, last: boolean): Buffer {
  const h = Buffer.allocUnsafe(12);
  h[0] = PDU_TYPE.P_DATA_TF;
  h[1] = 0;
  h.writeUInt32BE(fragmentLength + 6, 2);
  h.writeUInt32BE(fragmentLength + 2, 6);
  h[10] = pcId;
  h[11] = (command ? 1 : 0) | (last ? 2 : 0);
  return h;
}
