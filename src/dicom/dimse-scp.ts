/**
 * Serves one accepted TCP connection as a DICOM SCP. dcmjs-dimse negotiates the association (and
 * runs the association/idle timers); every P-DATA-TF PDU goes to our own DIMSE layer
 * (dimse-pdata.ts, dimse-command.ts), which hands our code the raw C-STORE dataset bytes: nothing is
 * parsed or re-encoded on the way (docs/architecture.md, "Node and libraries"). Policy (who may
 * associate, which contexts) and storage are callbacks, so this file stays protocol plumbing only.
 */
import type { Socket } from 'node:net';
import { COMMAND, responseTo, type EventReportRequest } from './dimse-command';
import { DISABLED_TIMEOUT_MS, Scp, routeIncomingPdus, type DimseAssociation, type NetworkInternals } from './dimse-lib';
import { MessageAssembler, PduError, encodeMessage, eventReportOf, parsePDataTf, type DatasetSink, type DimseMessage } from './dimse-pdata';
import { describeAbort } from './dimse-pdu-text';
import { STATUS_PROCESSING_FAILURE, STATUS_SUCCESS } from './dimse-status';

export interface ProposedContextInfo {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

export interface AssociationRequestInfo {
  readonly callingAet: string;
  readonly calledAet: string;
  readonly remoteAddress: string;
  readonly contexts: readonly ProposedContextInfo[];
}

export type RejectCause = 'called-ae' | 'calling-ae' | 'not-allowed' | 'limit';

export type AssociationDecision =
  | { readonly accept: true; /** context id → accepted transfer syntax; absent ids are rejected */ readonly transferSyntaxes: ReadonlyMap<number, string>; readonly unsupportedAbstract: ReadonlySet<number> }
  | { readonly accept: false; readonly cause: RejectCause };

/** A C-STORE whose dataset is about to arrive. */
export interface IncomingStore {
  readonly callingAet: string;
  readonly remoteAddress: string;
  /** From the C-STORE command. */
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The transfer syntax accepted for the context the dataset came on. */
  readonly transferSyntaxUid: string;
}

/** Takes the dataset bytes exactly as received (PDV payloads, in order, as they arrive), then answers. */
export interface StoreSink extends DatasetSink {
  /** The last fragment was written: the status to answer. */
  end(): Promise<StoreReply>;
}

export interface StoreReply {
  readonly status: number;
  readonly errorComment?: string;
}

export interface ScpHandlers {
  associate(info: AssociationRequestInfo): AssociationDecision;
  /** Called when a C-STORE command arrives, before its dataset: where the dataset's fragments go. */
  store(incoming: IncomingStore): StoreSink;
  /** A storage commitment report (N-EVENT-REPORT-RQ): returns the status to answer. Not served when absent. */
  eventReport?(request: EventReportRequest): number;
  /** The peer asked to release: resolve when the A-RELEASE-RP may go (every store of it durable). */
  released?(): Promise<void> | void;
  /** The connection ended; `error` is a one-line description when it did not end by release. */
  closed?(info: { callingAet?: string; remoteAddress: string; error?: string }): void;
}

export interface ScpConnectionOptions {
  readonly maxPduLength: number;
  /** ARTIM: time allowed between connect and a complete A-ASSOCIATE-RQ; the connection is closed after it. */
  readonly associationTimeoutMs: number;
  /** Silence allowed from the peer on an open association while it owes us the next message; A-ABORT after it. */
  readonly idleTimeoutMs: number;
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Status for a request we do not serve on this association (PS3.7 C.4.2: unrecognized operation). */
const STATUS_UNRECOGNIZED_OPERATION = 0x0211;

interface AcceptedContext {
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

/** Starts serving `socket`; returns a function that ends the connection. */
export function serveScpConnection(socket: Socket, handlers: ScpHandlers, options: ScpConnectionOptions): { close(): void } {
  socket.setNoDelay(true);
  const remoteAddress = normalizeAddress(socket.remoteAddress);
  let callingAet: string | undefined;
  let error: string | undefined;
  let released = false;
  /** Presentation contexts we accepted, by id; undefined until the association is accepted. */
  let accepted: Map<number, AcceptedContext> | undefined;
  /** The requestor's Maximum Length Received: our responses are cut to it. */
  let peerMaxPdu = 0;
  /** We aborted: whatever still arrives is ignored. */
  let closing = false;
  /** Requests are served one after the other, so responses leave in request order. */
  let queue: Promise<void> = Promise.resolve();
  /** Requests received and not yet answered: the peer is waiting for us, not idle. */
  let serving = 0;
  const timers = new ConnectionTimers(options, {
    artim: () => {
      error ??= `no association request from ${remoteAddress} within ${seconds(options.associationTimeoutMs)}: connection closed`;
      socket.destroy();
    },
    idle: () => {
      error ??= `association from ${callingAet}@${remoteAddress} sent nothing for ${seconds(options.idleTimeoutMs)}: aborted`;
      sendAbortAndClose(0);
    },
  });
  // A C-STORE's dataset goes to the store's sink as it arrives (a large instance is never held whole).
  const assembler = new MessageAssembler((pcId, command) => {
    if (command.commandField !== COMMAND.C_STORE_RQ) return undefined;
    const context = accepted?.get(pcId);
    if (!context) throw new PduError(`message on presentation context ${pcId}, which was not accepted`);
    return handlers.store({
      callingAet: callingAet ?? '',
      remoteAddress,
      sopClassUid: command.affectedSopClassUid ?? '',
      sopInstanceUid: command.affectedSopInstanceUid ?? '',
      transferSyntaxUid: context.transferSyntax,
    });
  });

  class PipelineScp extends Scp {
    override associationRequested(association: DimseAssociation): void {
      callingAet = association.getCallingAeTitle();
      const contexts = association.getPresentationContexts().map(({ id, context }) => ({
        id,
        abstractSyntax: context.getAbstractSyntaxUid(),
        transferSyntaxes: [...context.getTransferSyntaxUids()],
      }));
      const decision = handlers.associate({ callingAet, calledAet: association.getCalledAeTitle(), remoteAddress, contexts });
      if (!decision.accept) {
        error = `association from ${callingAet}@${remoteAddress} rejected: ${decision.cause}`;
        const [result, source, reason] = REJECTS[decision.cause];
        this.sendAssociationReject(result, source, reason);
        timers.stop();
        setTimeout(() => socket.destroy(), 1000).unref(); // the requestor should close first
        return;
      }
      const ours = new Map<number, AcceptedContext>();
      for (const { id, context } of association.getPresentationContexts()) {
        const ts = decision.transferSyntaxes.get(id);
        // One call per context: a later setResult would overwrite the accepted transfer syntax.
        if (ts) {
          context.setResult(0, ts);
          ours.set(id, { abstractSyntax: context.getAbstractSyntaxUid(), transferSyntax: ts });
        } else context.setResult(decision.unsupportedAbstract.has(id) ? 3 : 4);
      }
      // The association object holds one maximum: the requestor's until we put ours in for the A-ASSOCIATE-AC.
      peerMaxPdu = association.getMaxPduLength();
      association.setMaxPduLength(options.maxPduLength);
      accepted = ours;
      this.sendAssociationAccept();
      timers.associated();
    }

    override associationReleaseRequested(): void {
      released = true;
      timers.stop();
      // Every store of this association was answered; let the store layer finish what it batches
      // (directory fsyncs) before we confirm the release.
      void queue
        .then(() => handlers.released?.())
        .catch(() => undefined)
        .finally(() => {
          if (socket.destroyed) return;
          this.sendAssociationReleaseResponse();
          socket.end();
        });
    }

    override abort(source: number, reason: number): void {
      error = `association aborted by ${callingAet ?? 'peer'}@${remoteAddress} (${describeAbort(source, reason)})`;
      socket.destroy();
    }
  }

  // dcmjs-dimse's timers tick once a second and count no time as "busy"; ours (ConnectionTimers) are exact.
  const scp = new PipelineScp(socket, { connectTimeout: DISABLED_TIMEOUT_MS, associationTimeout: DISABLED_TIMEOUT_MS, pduTimeout: DISABLED_TIMEOUT_MS });
  (scp as unknown as NetworkInternals).connected = true; // its A-ABORT needs it; never set for accepted sockets

  /** A-ABORT as service provider with `reason` (0 not specified, 6 invalid PDU parameter), then close. */
  const sendAbortAndClose = (reason: number): void => {
    closing = true;
    timers.stop();
    assembler.abandon();
    if (!socket.destroyed) {
      try {
        scp.sendAbort(2, reason);
      } catch {
        /* already unusable */
      }
    }
    socket.end(); // the A-ABORT goes out first; the peer closes (or the timer below does)
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  /** A protocol violation by the peer: A-ABORT (service provider, invalid PDU parameter) and close. */
  const protocolError = (message: string): void => {
    error ??= `protocol error from ${callingAet ?? 'peer'}@${remoteAddress}: ${message}`;
    sendAbortAndClose(6);
  };

  const respond = (request: DimseMessage, status: number, errorComment?: string): void => {
    if (socket.destroyed) return;
    const response = responseTo(request.command, status, errorComment);
    socket.cork();
    for (const buf of encodeMessage(request.pcId, response, undefined, peerMaxPdu)) socket.write(buf);
    socket.uncork();
  };

  const served = (): void => {
    if (--serving === 0) timers.waiting(); // the peer's turn again
  };

  const serve = async (message: DimseMessage, context: AcceptedContext): Promise<void> => {
    const { command } = message;
    switch (command.commandField) {
      case COMMAND.C_ECHO_RQ:
        respond(message, STATUS_SUCCESS);
        return;
      case COMMAND.C_STORE_RQ: {
        const sink = message.sink as StoreSink | undefined;
        if (!sink) {
          respond(message, STATUS_PROCESSING_FAILURE, 'C-STORE without a dataset');
          return;
        }
        let reply: StoreReply;
        try {
          reply = await sink.end();
        } catch (err) {
          reply = { status: STATUS_PROCESSING_FAILURE, errorComment: err instanceof Error ? err.message : 'store failed' };
        }
        respond(message, reply.status, reply.errorComment);
        return;
      }
      case COMMAND.N_EVENT_REPORT_RQ:
        if (!handlers.eventReport) {
          respond(message, STATUS_UNRECOGNIZED_OPERATION);
          return;
        }
        respond(message, handlers.eventReport(eventReportOf(message, callingAet ?? '', context.transferSyntax)));
        return;
      case COMMAND.C_CANCEL_RQ:
        return; // nothing of ours is cancellable
      default:
        if ((command.commandField & 0x8000) === 0) respond(message, STATUS_UNRECOGNIZED_OPERATION);
    }
  };

  routeIncomingPdus(scp, (pdu) => {
    if (closing) return;
    if (!accepted) {
      protocolError('P-DATA-TF before the association was accepted');
      return;
    }
    try {
      for (const pdv of parsePDataTf(pdu)) {
        const message = assembler.push(pdv);
        if (!message) continue;
        const context = accepted.get(message.pcId);
        if (!context) throw new PduError(`message on presentation context ${message.pcId}, which was not accepted`);
        serving++;
        timers.busy();
        queue = queue.then(() => serve(message, context)).finally(served);
      }
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      protocolError(err.message);
    }
  });

  socket.on('data', () => timers.heard());
  scp.on('networkError', (err: Error) => {
    error ??= `connection with ${callingAet ?? 'peer'}@${remoteAddress}: ${err.message.replace(/^.*-> /, '')}`;
    socket.destroy();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= `connection with ${callingAet ?? 'peer'}@${remoteAddress}: ${err.code ?? err.message}`;
  });
  socket.once('close', () => {
    timers.stop();
    assembler.abandon();
    handlers.closed?.({ callingAet, remoteAddress, error: released ? undefined : error ?? (callingAet ? `${callingAet}@${remoteAddress} closed the connection without release` : undefined) });
  });
  return { close: () => socket.destroy() };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * ARTIM (PS3.8 9.1.5): from connect until the association is accepted or rejected, at most
 * associationTimeoutMs. Idle: once associated, the peer may stay silent at most idleTimeoutMs while
 * it owes us the next message (any bytes received count); while we serve a request it is not idle.
 */
class ConnectionTimers {
  private artim?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  private associatedYet = false;
  private waitingForPeer = false;

  constructor(private readonly options: ScpConnectionOptions, private readonly expired: { artim(): void; idle(): void }) {
    this.artim = setTimeout(() => expired.artim(), options.associationTimeoutMs);
  }

  associated(): void {
    clearTimeout(this.artim);
    this.associatedYet = true;
    this.waiting();
  }

  /** Bytes came from the peer: its silence starts again. */
  heard(): void {
    if (this.waitingForPeer) this.idle?.refresh();
  }

  /** A request is being served: the silence is ours. */
  busy(): void {
    this.waitingForPeer = false;
    clearTimeout(this.idle);
  }

  /** Every request answered: the peer's turn. */
  waiting(): void {
    if (!this.associatedYet) return;
    this.waitingForPeer = true;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.expired.idle(), this.options.idleTimeoutMs);
  }

  stop(): void {
    this.waitingForPeer = false;
    clearTimeout(this.artim);
    clearTimeout(this.idle);
  }
}

/** [result, source, reason] per PS3.8 9.3.4. */
const REJECTS: Record<RejectCause, [number, number, number]> = {
  'called-ae': [1, 1, 7],
  'calling-ae': [1, 1, 3],
  'not-allowed': [1, 1, 1],
  limit: [2, 3, 2],
};
