/**
 * One SCU association: dcmjs-dimse negotiates it (our presentation contexts, one transfer syntax
 * each for data); DIMSE messages go through our own layer (dimse-pdata.ts, dimse-command.ts), with
 * exact timeouts, TCP_NODELAY, and one final outcome per request: a reply, or a PipelineError when
 * the peer went silent, aborted or closed.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { errorMessage, PipelineError } from '../errors';
import { handshakeBrokenError, looksLikeTls, plainPortHint } from '../tls/errors';
import { tlsClientOptions, type TlsSettings } from '../tls/settings';
import { findElement, type Element } from './dataset';
import { lookupTag } from './dictionary';
import { COMMAND, isResponse, responseTo, type DimseCommand, type EventReportRequest } from './dimse-command';
import { Association, Dataset, DISABLED_TIMEOUT_MS, NetworkBase, routeIncomingPdus } from './dimse-lib';
import { DatasetFragmenter, MessageAssembler, PduError, encodeMessage, eventReportOf, fragmentSize, parsePDataTf, type DimseMessage } from './dimse-pdata';
import { describeConnectionFailure } from './dimse-connection-error';
import { describeAbort, describeReject, isTransientReject, rejectHint, type RejectParams } from './dimse-pdu-text';
import { STATUS_PENDING, STATUS_PENDING_WARNING } from './dimse-status';
import { ACTION_REQUEST_COMMITMENT, STORAGE_COMMITMENT_SOP_CLASS, STORAGE_COMMITMENT_SOP_INSTANCE, encodeCommitmentRequest, type SopReference } from './storage-commitment';
import { parseDataset } from './parse';
import { transferSyntax } from './transfer-syntax';
import { decodeText } from './values';
import { binaryValueSize, isTextVr } from './vr';

export const VERIFICATION = '1.2.840.10008.1.1';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
/** Presentation context result (PS3.8 9.3.3.2): the SOP class is not supported at all. */
const ABSTRACT_SYNTAX_NOT_SUPPORTED = 3;

export interface ProposedContext {
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

export interface AcceptedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

export interface AssociationTimeouts {
  readonly connectMs: number;
  readonly associationMs: number;
  /** Silence allowed between two responses of one request (each pending response restarts it). */
  readonly dimseMs: number;
}

export interface OpenParams {
  readonly host: string;
  readonly port: number;
  readonly callingAet: string;
  readonly calledAet: string;
  readonly contexts: readonly ProposedContext[];
  readonly maxPduLength: number;
  readonly timeouts: AssociationTimeouts;
  /** DICOM TLS to this peer (PS3.15 Annex B); plain TCP when absent. */
  readonly tls?: TlsSettings;
}

export interface DimseReply {
  readonly status: number;
  readonly errorComment?: string;
  /** Identifier of the response (C-FIND match, C-MOVE failed UID list), keyword → text value. */
  readonly identifier?: Record<string, string>;
  readonly remaining?: number;
  readonly completed?: number;
  readonly failed?: number;
  readonly warning?: number;
}

export interface StoreItem {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /**
   * The dataset exactly as it is in the file, after the meta group (or its lossless conversion): in
   * memory, or read piece by piece as it is sent (large files: memory stays bounded).
   */
  readonly dataset: Buffer | AsyncIterable<Buffer>;
}

interface InFlight {
  readonly label: string;
  readonly messageId: number;
  /** Transfer syntax of the request's context: response identifiers are decoded with it. */
  readonly transferSyntax: string;
  readonly onPending?: (reply: DimseReply) => void;
  resolve(reply: DimseReply): void;
  reject(err: PipelineError): void;
}

export class ScuAssociation {
  private readonly socket: Socket;
  private readonly network: InstanceType<typeof NetworkBase>;
  private readonly peer: string;
  private readonly assembler = new MessageAssembler();
  private accepted: AcceptedContext[] = [];
  /** Abstract syntaxes the peer refused outright in at least one context (result 3: abstract syntax not supported). */
  private unsupported = new Set<string>();
  /** The peer's Maximum Length Received (0: no limit): what we send is cut to it. */
  private peerMaxPdu = 0;
  private messageId = 0;
  private inFlight?: InFlight;
  private timer?: NodeJS.Timeout;
  private socketError?: NodeJS.ErrnoException;
  private closedReason?: string;
  private opening?: { resolve(a: ScuAssociation): void; reject(e: PipelineError): void; phase: 'connect' | 'tls' | 'associate' };
  /** First bytes the peer sent, to recognise a TLS answer to our plain association request. */
  private firstBytes?: Buffer;
  private releasing?: () => void;
  /**
   * Serves an N-EVENT-REPORT-RQ the peer sends on this association (a storage commitment report
   * may come on the association of its request); returns the status to answer.
   */
  onEventReport?: (request: EventReportRequest) => number;

  private constructor(readonly params: OpenParams) {
    this.peer = `${params.calledAet}@${params.host}:${params.port}`;
    const { host, port, tls } = params;
    this.socket = tls ? tlsConnect({ host, port, ...tlsClientOptions(tls, host) }) : connect({ host, port });
    this.socket.setNoDelay(true); // on a TLSSocket, passed on to its TCP socket
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err;
    });
    this.network = new NetworkBase(this.socket, {
      connectTimeout: DISABLED_TIMEOUT_MS,
      associationTimeout: DISABLED_TIMEOUT_MS,
      pduTimeout: DISABLED_TIMEOUT_MS,
    });
    this.socket.setTimeout(0);
    routeIncomingPdus(this.network, (pdu) => this.onPData(pdu));
    this.socket.prependOnceListener('data', (chunk: Buffer) => {
      this.firstBytes = chunk.subarray(0, 2);
    });
    this.wire();
  }

  /** Connects and negotiates; rejects with a one-line, actionable PipelineError. */
  static open(params: OpenParams): Promise<ScuAssociation> {
    const assoc = new ScuAssociation(params);
    return new Promise((resolve, reject) => {
      assoc.opening = { resolve, reject, phase: 'connect' };
      assoc.arm(params.timeouts.connectMs, () =>
        assoc.failOpen(new PipelineError('E_NETWORK', `no connection to ${params.host}:${params.port} within ${seconds(params.timeouts.connectMs)} (host down or port filtered?)`)),
      );
    });
  }

  get acceptedContexts(): readonly AcceptedContext[] {
    return this.accepted;
  }

  get isOpen(): boolean {
    return this.closedReason === undefined && !this.opening;
  }

  get description(): string {
    return this.peer;
  }

  /** "TLSv1.3 TLS_AES_256_GCM_SHA384" on a TLS association; undefined on plain TCP. */
  get tlsSession(): string | undefined {
    if (!(this.socket instanceof TLSSocket)) return undefined;
    return `${this.socket.getProtocol() ?? 'TLS'} ${this.socket.getCipher()?.name ?? ''}`.trim();
  }

  findContext(abstractSyntax: string, transferSyntax?: string): AcceptedContext | undefined {
    return this.accepted.find((c) => c.abstractSyntax === abstractSyntax && (!transferSyntax || c.transferSyntax === transferSyntax));
  }

  /** True when the peer answered that it does not support this SOP class (rather than refusing our transfer syntaxes). */
  refusedAbstractSyntax(abstractSyntax: string): boolean {
    return this.unsupported.has(abstractSyntax) && !this.findContext(abstractSyntax);
  }

  echo(): Promise<DimseReply> {
    return this.send('C-ECHO', VERIFICATION, COMMAND.C_ECHO_RQ, {});
  }

  /** C-FIND (Study Root); onMatch gets each pending identifier. */
  find(level: string, keys: Record<string, string>, onMatch: (identifier: Record<string, string>) => void): Promise<DimseReply> {
    return this.send('C-FIND', STUDY_ROOT_FIND, COMMAND.C_FIND_RQ, { priority: 0 }, { ...keys, QueryRetrieveLevel: level }, (reply) => {
      if (reply.identifier) onMatch(reply.identifier);
    });
  }

  /** C-MOVE (Study Root) to destination; onPending gets the sub-operation counters. */
  move(destination: string, level: string, keys: Record<string, string>, onPending?: (reply: DimseReply) => void): Promise<DimseReply> {
    return this.send('C-MOVE', STUDY_ROOT_MOVE, COMMAND.C_MOVE_RQ, { priority: 0, moveDestination: destination }, { ...keys, QueryRetrieveLevel: level }, onPending);
  }

  /** C-STORE of the item's own bytes on the context accepted for its SOP class and transfer syntax. */
  async store(item: StoreItem): Promise<DimseReply> {
    const context = this.findContext(item.sopClassUid, item.transferSyntaxUid);
    if (!context) {
      throw new PipelineError('E_ASSOCIATION', `${this.peer} accepted no presentation context for SOP class ${item.sopClassUid} in transfer syntax ${item.transferSyntaxUid}`);
    }
    const command = { commandField: COMMAND.C_STORE_RQ, affectedSopClassUid: item.sopClassUid, affectedSopInstanceUid: item.sopInstanceUid, priority: 0, hasDataset: true };
    if (Buffer.isBuffer(item.dataset)) return this.sendOn(context, 'C-STORE', command, item.dataset);
    // The command goes out alone; the dataset follows as it is read, paced by the socket.
    const reply = this.sendOn(context, 'C-STORE', command);
    reply.catch(() => undefined); // awaited below, once the dataset is out
    try {
      await this.writeDataset(context.id, item.dataset);
    } catch (err) {
      // A message cannot be left half sent: the association is unusable.
      this.abort();
      throw new PipelineError('E_IO', `cannot read the dataset to send: ${errorMessage(err)}`, { cause: err });
    }
    return reply;
  }

  /** Streams a dataset in PDUs cut to the peer's limit, waiting for the socket to drain; stops if the association closes. */
  private async writeDataset(pcId: number, source: AsyncIterable<Buffer>): Promise<void> {
    const fragmenter = new DatasetFragmenter(pcId, fragmentSize(this.peerMaxPdu));
    for await (const piece of source) {
      if (this.closedReason !== undefined) return;
      if (!this.writeAll(fragmenter.push(piece))) await this.drained();
      // Progress restarts the silence timer (the peer is reading); not once it has answered.
      if (this.inFlight) this.armDimse(this.inFlight.label);
    }
    if (this.closedReason === undefined) this.writeAll(fragmenter.end());
  }

  private writeAll(buffers: readonly Buffer[]): boolean {
    let ok = true;
    this.socket.cork();
    for (const buf of buffers) ok = this.socket.write(buf) && ok;
    this.socket.uncork();
    return ok;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writableNeedDrain) return resolve();
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** N-ACTION-RQ "Request Storage Commitment" (Push Model) for these instances under one transaction. */
  requestStorageCommitment(transactionUid: string, refs: readonly SopReference[]): Promise<DimseReply> {
    const context = this.findContext(STORAGE_COMMITMENT_SOP_CLASS);
    if (!context) return Promise.reject(this.closedReason !== undefined ? this.closedError() : new PipelineError('E_ASSOCIATION', `${this.peer} accepted no presentation context for Storage Commitment`));
    const dataset = encodeCommitmentRequest(transactionUid, refs, context.transferSyntax);
    return this.sendOn(context, 'N-ACTION (storage commitment)', {
      commandField: COMMAND.N_ACTION_RQ,
      requestedSopClassUid: STORAGE_COMMITMENT_SOP_CLASS,
      requestedSopInstanceUid: STORAGE_COMMITMENT_SOP_INSTANCE,
      actionTypeId: ACTION_REQUEST_COMMITMENT,
      hasDataset: true,
    }, dataset);
  }

  /** A-RELEASE; falls back to closing the connection when the peer does not answer in time. */
  async release(): Promise<void> {
    if (this.closedReason !== undefined) return;
    await new Promise<void>((resolve) => {
      this.releasing = resolve;
      this.arm(this.params.timeouts.associationMs, () => {
        this.socket.destroy();
        resolve();
      });
      this.network.sendAssociationReleaseRequest();
    });
    this.disarm();
    this.markClosed('released');
    this.socket.end();
    this.socket.destroy();
  }

  abort(): void {
    if (this.closedReason === undefined && !this.socket.destroyed) {
      try {
        this.network.sendAbort(0, 0);
      } catch {
        /* the connection is already unusable */
      }
    }
    this.markClosed('aborted by us');
    this.socket.destroy();
  }

  /** A request of a query/verification service: its identifier (if any) is encoded by dcmjs in the context's transfer syntax. */
  private send(label: string, abstractSyntax: string, commandField: number, fields: Partial<DimseCommand>, identifier?: Record<string, string>, onPending?: (reply: DimseReply) => void): Promise<DimseReply> {
    const context = this.findContext(abstractSyntax);
    if (!context) {
      if (this.closedReason !== undefined) return Promise.reject(this.closedError());
      // As before with dcmjs-dimse: a request without an accepted context is never sent.
      return Promise.reject(new PipelineError('E_ASSOCIATION', `${label} to ${this.peer} was not sent (no accepted presentation context)`));
    }
    let dataset: Buffer | undefined;
    if (identifier) {
      dataset = new Dataset(identifier, context.transferSyntax).getDenaturalizedDataset() as Buffer;
    }
    return this.sendOn(context, label, { ...fields, commandField, affectedSopClassUid: abstractSyntax, hasDataset: dataset !== undefined }, dataset, onPending);
  }

  private sendOn(context: AcceptedContext, label: string, command: Omit<DimseCommand, 'messageId'>, dataset?: Buffer, onPending?: (reply: DimseReply) => void): Promise<DimseReply> {
    if (this.closedReason !== undefined) return Promise.reject(this.closedError());
    if (this.inFlight) throw new Error(`internal: ${label} sent while ${this.inFlight.label} is in flight`);
    this.messageId = (this.messageId % 0xffff) + 1;
    const messageId = this.messageId;
    return new Promise<DimseReply>((resolve, reject) => {
      this.inFlight = { label, messageId, transferSyntax: context.transferSyntax, onPending, resolve, reject };
      this.armDimse(label);
      const pdus = encodeMessage(context.id, { ...command, messageId }, dataset, this.peerMaxPdu);
      this.socket.cork();
      for (const pdu of pdus) this.socket.write(pdu);
      this.socket.uncork();
    });
  }

  private armDimse(label: string): void {
    this.arm(this.params.timeouts.dimseMs, () => {
      this.failInFlight(new PipelineError('E_NETWORK', `no ${label} response from ${this.peer} within ${seconds(this.params.timeouts.dimseMs)}`));
      this.abort();
    });
  }

  private closedError(): PipelineError {
    return new PipelineError('E_ASSOCIATION', `association with ${this.peer} is closed (${this.closedReason})`);
  }

  /** Incoming P-DATA-TF: responses to our request. Anything malformed or unexpected aborts the association. */
  private onPData(pdu: Buffer): void {
    if (this.closedReason !== undefined) return;
    try {
      for (const pdv of parsePDataTf(pdu)) {
        const message = this.assembler.push(pdv);
        if (message) this.onMessage(message);
      }
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      this.fail(new PipelineError('E_ASSOCIATION', `protocol error from ${this.peer}: ${err.message}`));
      this.abort();
    }
  }

  private onMessage(message: DimseMessage): void {
    const { command } = message;
    const current = this.inFlight;
    if (!isResponse(command)) {
      if (command.commandField === COMMAND.N_EVENT_REPORT_RQ && this.onEventReport) {
        this.answerEventReport(message);
        return;
      }
      // A peer SCU request on our association (e.g. C-CANCEL is ours to send, not to receive): not served.
      if (command.commandField !== COMMAND.C_CANCEL_RQ) throw new PduError(`unexpected request 0x${command.commandField.toString(16)} from the peer`);
      return;
    }
    if (!current || command.messageIdBeingRespondedTo !== current.messageId) return; // late answer to a request we gave up on
    const reply = replyOf(command, message, current.transferSyntax);
    if (command.status === STATUS_PENDING || command.status === STATUS_PENDING_WARNING) {
      this.armDimse(current.label);
      current.onPending?.(reply);
      return;
    }
    this.disarm();
    this.inFlight = undefined;
    current.resolve(reply);
  }

  private answerEventReport(message: DimseMessage): void {
    const { command } = message;
    const context = this.accepted.find((c) => c.id === message.pcId);
    if (!context) throw new PduError(`message on presentation context ${message.pcId}, which was not accepted`);
    const status = this.onEventReport!(eventReportOf(message, this.params.calledAet, context.transferSyntax));
    this.socket.cork();
    for (const pdu of encodeMessage(context.id, responseTo(command, status), undefined, this.peerMaxPdu)) this.socket.write(pdu);
    this.socket.uncork();
  }

  /** Connected (and, with TLS, the handshake done): send the A-ASSOCIATE-RQ. */
  private associate(): void {
    if (!this.opening) return;
    this.opening.phase = 'associate';
    const { associationMs } = this.params.timeouts;
    this.arm(associationMs, () =>
      this.failOpen(new PipelineError('E_ASSOCIATION', `${this.peer} did not answer the association request within ${seconds(associationMs)}${this.params.tls ? '' : plainPortHint()}`)),
    );
    this.network.sendAssociationRequest(this.buildAssociation());
  }

  private wire(): void {
    const net = this.network;
    if (this.params.tls) {
      // TCP connected: the handshake gets the association timeout; the request goes once it is done.
      this.socket.once('connect', () => {
        if (!this.opening) return;
        this.opening.phase = 'tls';
        const { associationMs } = this.params.timeouts;
        this.arm(associationMs, () => this.failOpen(handshakeBrokenError(this.tlsPeer(), seconds(associationMs))));
      });
      this.socket.once('secureConnect', () => this.associate());
    } else {
      this.socket.once('connect', () => this.associate());
    }
    net.on('associationAccepted', (association: InstanceType<typeof Association>) => {
      if (!this.opening) return;
      this.disarm();
      const contexts = association.getPresentationContexts().map(({ context }) => context);
      for (const c of contexts) if (c.getResult() === ABSTRACT_SYNTAX_NOT_SUPPORTED) this.unsupported.add(c.getAbstractSyntaxUid());
      this.accepted = contexts
        .filter((c) => c.getResult() === 0)
        .map((c) => ({ id: c.getPresentationContextId(), abstractSyntax: c.getAbstractSyntaxUid(), transferSyntax: c.getAcceptedTransferSyntaxUid() ?? '' }));
      // Reading the A-ASSOCIATE-AC put the peer's Maximum Length Received into the association.
      this.peerMaxPdu = association.getMaxPduLength();
      const { resolve } = this.opening;
      this.opening = undefined;
      resolve(this);
    });
    net.on('associationRejected', (rj: RejectParams) => {
      const { callingAet, calledAet } = this.params;
      const err = new PipelineError('E_ASSOCIATION', `association rejected by ${this.peer} for calling AE "${callingAet}": ${describeReject(rj)}${rejectHint(rj, callingAet, calledAet)}`);
      (err as PipelineError & { transient?: boolean }).transient = isTransientReject(rj);
      this.failOpen(err);
      this.socket.destroy();
    });
    net.on('associationReleaseResponse', () => this.releasing?.());
    net.on('abort', ({ source, reason }: { source: number; reason: number }) => {
      // Peers (Orthanc among them) abort instead of answering when the calling AE may not use a service.
      const during = this.inFlight ? ` in answer to our ${this.inFlight.label}; is calling AE "${this.params.callingAet}" allowed to use it there?` : '';
      this.fail(new PipelineError('E_ASSOCIATION', `association aborted by ${this.peer} (${describeAbort(source, reason)})${during}`));
      this.socket.destroy();
    });
    net.on('networkError', (err: Error) => {
      this.fail(err instanceof PduError && !this.answeredInTls() ? new PipelineError('E_ASSOCIATION', `protocol error from ${this.peer}: ${err.message}`) : this.connectionError());
      this.socket.destroy();
    });
    net.on('close', () => {
      this.fail(this.connectionError('connection closed by'));
      this.releasing?.();
    });
  }

  private buildAssociation(): InstanceType<typeof Association> {
    const association = new Association(this.params.callingAet, this.params.calledAet);
    association.setMaxPduLength(this.params.maxPduLength);
    for (const proposed of this.params.contexts) {
      const id = association.addPresentationContext(proposed.abstractSyntax);
      for (const ts of proposed.transferSyntaxes) association.addTransferSyntaxToPresentationContext(id, ts);
    }
    return association;
  }

  private tlsPeer(): { peer: string; host: string; port: number } {
    return { peer: this.peer, host: this.params.host, port: this.params.port };
  }

  /** Our plain association request was answered by a TLS record: the port is TLS-only. */
  private answeredInTls(): boolean {
    return !this.params.tls && this.firstBytes !== undefined && looksLikeTls(this.firstBytes);
  }

  private connectionError(fallback = 'connection lost with'): PipelineError {
    return describeConnectionFailure(
      { ...this.tlsPeer(), tls: this.params.tls, error: this.socketError, phase: this.opening?.phase, answeredInTls: this.answeredInTls() },
      fallback,
    );
  }

  private failOpen(err: PipelineError): void {
    if (!this.opening) return;
    const { reject } = this.opening;
    this.opening = undefined;
    this.disarm();
    this.markClosed(err.message);
    this.socket.destroy();
    reject(err);
  }

  private fail(err: PipelineError): void {
    if (this.opening) {
      this.failOpen(err);
      return;
    }
    this.failInFlight(err);
    this.markClosed(err.message);
  }

  private failInFlight(err: PipelineError): void {
    const current = this.inFlight;
    if (!current) return;
    this.inFlight = undefined;
    this.disarm();
    current.reject(err);
  }

  private markClosed(reason: string): void {
    this.closedReason ??= reason;
    this.disarm();
  }

  private arm(ms: number, onExpiry: () => void): void {
    this.disarm();
    this.timer = setTimeout(onExpiry, ms);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function replyOf(command: DimseCommand, message: DimseMessage, transferSyntaxUid: string): DimseReply {
  return {
    status: command.status ?? -1,
    errorComment: command.errorComment || undefined,
    identifier: message.dataset ? identifierOf(message.dataset, transferSyntaxUid) : undefined,
    remaining: command.remaining,
    completed: command.completed,
    failed: command.failed,
    warning: command.warning,
  };
}

/**
 * A response identifier (C-FIND match, C-MOVE Failed SOP Instance UID List) as keyword → text:
 * text values as sent (multiple values joined by "\", decoded in the identifier's Specific Character
 * Set), binary numbers as decimal text, sequences and bulk data as "". Tags outside PS3.6 are keyed
 * by their 8 hex digits. An identifier that does not parse is reported as a protocol error.
 */
export function identifierOf(chunks: readonly Buffer[], transferSyntaxUid: string): Record<string, string> {
  const ts = transferSyntax(transferSyntaxUid);
  if (!ts) throw new PduError(`identifier in unsupported transfer syntax ${transferSyntaxUid}`);
  let elements: Element[];
  try {
    elements = parseDataset(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), ts);
  } catch (err) {
    throw new PduError(`response identifier does not parse: ${(err as Error).message}`);
  }
  const charsetElement = findElement(elements, 0x00080005);
  const charset = charsetElement ? decodeText(charsetElement) : undefined;
  const out: Record<string, string> = {};
  for (const el of elements) {
    const keyword = lookupTag(el.tag)?.keyword || el.tag.toString(16).toUpperCase().padStart(8, '0');
    out[keyword] = textOf(el, charset, ts.littleEndian);
  }
  return out;
}

function textOf(el: Element, charset: string | undefined, littleEndian: boolean): string {
  if (!el.value) return '';
  if (isTextVr(el.vr)) return decodeText(el, charset);
  const size = binaryValueSize(el.vr);
  if (!size || el.vr === 'AT') return '';
  const values: string[] = [];
  const v = el.value;
  for (let at = 0; at + size <= v.length; at += size) {
    switch (el.vr) {
      case 'US': values.push(String(littleEndian ? v.readUInt16LE(at) : v.readUInt16BE(at))); break;
      case 'SS': values.push(String(littleEndian ? v.readInt16LE(at) : v.readInt16BE(at))); break;
      case 'UL': values.push(String(littleEndian ? v.readUInt32LE(at) : v.readUInt32BE(at))); break;
      case 'SL': values.push(String(littleEndian ? v.readInt32LE(at) : v.readInt32BE(at))); break;
      case 'FL': values.push(String(littleEndian ? v.readFloatLE(at) : v.readFloatBE(at))); break;
      case 'FD': values.push(String(littleEndian ? v.readDoubleLE(at) : v.readDoubleBE(at))); break;
      case 'SV': values.push(String(littleEndian ? v.readBigInt64LE(at) : v.readBigInt64BE(at))); break;
      case 'UV': values.push(String(littleEndian ? v.readBigUInt64LE(at) : v.readBigUInt64BE(at))); break;
    }
  }
  return values.join('\\');
}
