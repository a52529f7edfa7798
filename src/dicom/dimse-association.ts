/**
 * One SCU association over dcmjs-dimse's network layer, with our own presentation contexts (one
 * transfer syntax each for data), exact timeouts, TCP_NODELAY, and one final outcome per request:
 * a reply, or a PipelineError when the peer went silent, aborted or closed.
 */
import { connect, type Socket } from 'node:net';
import { PipelineError } from '../errors';
import {
  Association, CEchoRequest, CFindRequest, CMoveRequest, CStoreRequest, Dataset, DISABLED_TIMEOUT_MS,
  FixedNetwork, type DimseDataset, type DimseRequest, type DimseResponse, type NetworkInternals,
} from './dimse-lib';
import { describeAbort, describeReject, isTransientReject, rejectHint, type RejectParams } from './dimse-pdu-text';
import { STATUS_PENDING, STATUS_PENDING_WARNING } from './dimse-status';

export const VERIFICATION = '1.2.840.10008.1.1';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';

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
  /** The dataset exactly as it is in the file, after the meta group. */
  readonly dataset: Buffer;
}

interface InFlight {
  readonly label: string;
  readonly request: DimseRequest;
  resolve(reply: DimseReply): void;
  reject(err: PipelineError): void;
}

/** A C-STORE dataset that hands dcmjs-dimse the file's own bytes: nothing is parsed or re-encoded. */
class RawOutgoingDataset extends Dataset {
  constructor(private bytes: Buffer, transferSyntaxUid: string, sopClassUid: string, sopInstanceUid: string) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, transferSyntaxUid);
  }
  override getDenaturalizedDataset(): Buffer {
    return this.bytes;
  }
  release(): void {
    this.bytes = Buffer.alloc(0);
  }
}

export class ScuAssociation {
  private readonly socket: Socket;
  private readonly network: InstanceType<typeof FixedNetwork>;
  private readonly peer: string;
  private accepted: AcceptedContext[] = [];
  private inFlight?: InFlight;
  private timer?: NodeJS.Timeout;
  private socketError?: NodeJS.ErrnoException;
  private closedReason?: string;
  private opening?: { resolve(a: ScuAssociation): void; reject(e: PipelineError): void; phase: 'connect' | 'associate' };
  private releasing?: () => void;

  private constructor(readonly params: OpenParams) {
    this.peer = `${params.calledAet}@${params.host}:${params.port}`;
    this.socket = connect({ host: params.host, port: params.port });
    this.socket.setNoDelay(true);
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err;
    });
    this.network = new FixedNetwork(this.socket, {
      connectTimeout: DISABLED_TIMEOUT_MS,
      associationTimeout: DISABLED_TIMEOUT_MS,
      pduTimeout: DISABLED_TIMEOUT_MS,
    });
    this.socket.setTimeout(0);
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

  findContext(abstractSyntax: string, transferSyntax?: string): AcceptedContext | undefined {
    return this.accepted.find((c) => c.abstractSyntax === abstractSyntax && (!transferSyntax || c.transferSyntax === transferSyntax));
  }

  echo(): Promise<DimseReply> {
    return this.send(new CEchoRequest(), 'C-ECHO');
  }

  /** C-FIND (Study Root); onMatch gets each pending identifier. */
  find(level: string, keys: Record<string, string>, onMatch: (identifier: Record<string, string>) => void): Promise<DimseReply> {
    const request = new CFindRequest();
    request.setDataset(new Dataset({ ...keys, QueryRetrieveLevel: level }));
    return this.send(request, 'C-FIND', (rsp) => {
      const identifier = identifierOf(rsp);
      if (identifier) onMatch(identifier);
    });
  }

  /** C-MOVE (Study Root) to destination; onPending gets the sub-operation counters. */
  move(destination: string, level: string, keys: Record<string, string>, onPending?: (reply: DimseReply) => void): Promise<DimseReply> {
    const request = new CMoveRequest();
    request.setDataset(new Dataset({ ...keys, QueryRetrieveLevel: level }));
    request.getCommandDataset().setElement('MoveDestination', destination);
    return this.send(request, 'C-MOVE', onPending ? (rsp) => onPending(replyOf(rsp)) : undefined);
  }

  /** C-STORE of the item's own bytes on the context accepted for its SOP class and transfer syntax. */
  async store(item: StoreItem): Promise<DimseReply> {
    if (!this.findContext(item.sopClassUid, item.transferSyntaxUid)) {
      throw new PipelineError('E_ASSOCIATION', `${this.peer} accepted no presentation context for SOP class ${item.sopClassUid} in transfer syntax ${item.transferSyntaxUid}`);
    }
    const dataset = new RawOutgoingDataset(item.dataset, item.transferSyntaxUid, item.sopClassUid, item.sopInstanceUid);
    const request = new CStoreRequest(dataset);
    try {
      return await this.send(request, 'C-STORE');
    } finally {
      dataset.release(); // the network keeps finished requests; do not let them pin file bytes
    }
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

  private send(request: DimseRequest, label: string, onPending?: (rsp: DimseResponse) => void): Promise<DimseReply> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new PipelineError('E_ASSOCIATION', `association with ${this.peer} is closed (${this.closedReason})`));
    }
    if (this.inFlight) throw new Error(`internal: ${label} sent while ${this.inFlight.label} is in flight`);
    return new Promise<DimseReply>((resolve, reject) => {
      this.inFlight = { label, request, resolve, reject };
      const armDimse = (): void =>
        this.arm(this.params.timeouts.dimseMs, () => {
          this.failInFlight(new PipelineError('E_NETWORK', `no ${label} response from ${this.peer} within ${seconds(this.params.timeouts.dimseMs)}`));
          this.abort();
        });
      armDimse();
      request.on('response', (rsp: DimseResponse) => {
        if (this.inFlight?.request !== request) return;
        const status = rsp.getStatus();
        if (status === STATUS_PENDING || status === STATUS_PENDING_WARNING) {
          armDimse();
          onPending?.(rsp);
          return;
        }
        this.disarm();
        this.inFlight = undefined;
        this.forget(request);
        resolve(replyOf(rsp));
      });
      // dcmjs-dimse ends a request without any response when it cannot send it (no usable context).
      request.on('done', () => {
        if (this.inFlight?.request !== request) return;
        this.failInFlight(new PipelineError('E_ASSOCIATION', `${label} to ${this.peer} was not sent (no accepted presentation context)`));
      });
      this.network.sendRequests(request);
    });
  }

  private wire(): void {
    const net = this.network;
    net.on('connect', () => {
      if (!this.opening) return;
      this.opening.phase = 'associate';
      this.arm(this.params.timeouts.associationMs, () =>
        this.failOpen(new PipelineError('E_ASSOCIATION', `${this.peer} did not answer the association request within ${seconds(this.params.timeouts.associationMs)}`)),
      );
      net.sendAssociationRequest(this.buildAssociation());
    });
    net.on('associationAccepted', (association: InstanceType<typeof Association>) => {
      if (!this.opening) return;
      this.disarm();
      this.accepted = association
        .getPresentationContexts()
        .map(({ context }) => context)
        .filter((c) => c.getResult() === 0)
        .map((c) => ({ id: c.getPresentationContextId(), abstractSyntax: c.getAbstractSyntaxUid(), transferSyntax: c.getAcceptedTransferSyntaxUid() ?? '' }));
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
    net.on('networkError', () => {
      this.fail(this.connectionError());
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

  private connectionError(fallback = 'connection lost with'): PipelineError {
    const where = `${this.params.host}:${this.params.port}`;
    const code = this.socketError?.code;
    if (code === 'ECONNREFUSED') return new PipelineError('E_NETWORK', `connection refused by ${where} (nothing listening there?)`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PipelineError('E_NETWORK', `cannot resolve host ${this.params.host}`);
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new PipelineError('E_NETWORK', `cannot reach ${where} (${code})`);
    if (code) return new PipelineError('E_NETWORK', `connection error with ${this.peer}: ${code}`);
    return new PipelineError('E_NETWORK', `${fallback} ${this.peer}`);
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
    this.forget(current.request);
    current.reject(err);
  }

  private markClosed(reason: string): void {
    this.closedReason ??= reason;
    this.disarm();
  }

  /** dcmjs-dimse keeps every request it sent in `pending`; drop finished ones so memory stays flat. */
  private forget(request: DimseRequest): void {
    const internals = this.network as unknown as NetworkInternals;
    internals.pending = internals.pending.filter((r) => r !== request);
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

function replyOf(rsp: DimseResponse): DimseReply {
  const cmd = rsp.getCommandDataset();
  const num = (keyword: string): number | undefined => {
    const v = cmd.getElement(keyword) as unknown;
    return typeof v === 'number' ? v : undefined;
  };
  const comment = rsp.getErrorComment() as unknown;
  return {
    status: rsp.getStatus(),
    errorComment: typeof comment === 'string' && comment ? comment : undefined,
    identifier: identifierOf(rsp),
    remaining: num('NumberOfRemainingSuboperations'),
    completed: num('NumberOfCompletedSuboperations'),
    failed: num('NumberOfFailedSuboperations'),
    warning: num('NumberOfWarningSuboperations'),
  };
}

/** dcmjs's naturalized identifier flattened to text: multiple values joined by "\", PN by component groups. */
function identifierOf(rsp: DimseResponse): Record<string, string> | undefined {
  const dataset = rsp.getDataset() as DimseDataset | undefined;
  if (!dataset) return undefined;
  const out: Record<string, string> = {};
  for (const [keyword, value] of Object.entries(dataset.getElements())) {
    if (keyword === '_vrMap' || keyword === '_meta') continue;
    out[keyword] = textOf(value);
  }
  return out;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(textOf).join('\\');
  if (typeof value === 'object') {
    const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    if ('Alphabetic' in pn || 'Ideographic' in pn || 'Phonetic' in pn) {
      return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
    }
    return '';
  }
  return String(value);
}
