/**
 * Serves one accepted TCP connection as a DICOM SCP. dcmjs-dimse negotiates the association (and
 * runs the association/idle timers); every P-DATA-TF PDU goes to our own DIMSE layer
 * (dimse-pdata.ts, dimse-command.ts), which hands our code the raw C-STORE dataset bytes: nothing is
 * parsed or re-encoded on the way (docs/architecture.md, "Node and libraries"). Policy (who may
 * associate, which contexts) and storage are callbacks, so this file stays protocol plumbing only.
 */
import type { Socket } from 'node:net';
import { COMMAND, responseTo, type EventReportRequest } from './dimse-command';
import { Scp, routeIncomingPdus, type DimseAssociation, type NetworkInternals } from './dimse-lib';
import { MessageAssembler, PduError, encodeMessage, eventReportOf, parsePDataTf, type DimseMessage } from './dimse-pdata';
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

export interface ReceivedInstance {
  readonly callingAet: string;
  readonly remoteAddress: string;
  /** From the C-STORE command. */
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The transfer syntax accepted for the context the dataset came on. */
  readonly transferSyntaxUid: string;
  /** The dataset bytes exactly as received (PDV payloads, in order). */
  readonly chunks: readonly Buffer[];
  readonly byteLength: number;
}

export interface StoreReply {
  readonly status: number;
  readonly errorComment?: string;
}

export interface ScpHandlers {
  associate(info: AssociationRequestInfo): AssociationDecision;
  store(instance: ReceivedInstance): Promise<StoreReply>;
  /** A storage commitment report (N-EVENT-REPORT-RQ): returns the status to answer. Not served when absent. */
  eventReport?(request: EventReportRequest): number;
  /** The peer asked to release: resolve when the A-RELEASE-RP may go (every store of it durable). */
  released?(): Promise<void> | void;
  /** The connection ended; `error` is a one-line description when it did not end by release. */
  closed?(info: { callingAet?: string; remoteAddress: string; error?: string }): void;
}

export interface ScpConnectionOptions {
  readonly maxPduLength: number;
  /** Time allowed between connect and the A-ASSOCIATE-RQ. */
  readonly associationTimeoutMs: number;
  /** Silence allowed between two PDUs of an open association. */
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
  const assembler = new MessageAssembler();
  /** Requests are served one after the other, so responses leave in request order. */
  let queue: Promise<void> = Promise.resolve();

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
    }

    override associationReleaseRequested(): void {
      released = true;
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

  const scp = new PipelineScp(socket, {
    connectTimeout: options.idleTimeoutMs,
    associationTimeout: options.associationTimeoutMs,
    pduTimeout: options.idleTimeoutMs,
  });
  // dcmjs-dimse's timers only run while `connected`, and it never sets that for accepted sockets.
  const internals = scp as unknown as NetworkInternals;
  internals.connected = true;
  internals.connectedTime = Date.now();

  /** A protocol violation by the peer: A-ABORT (service provider, invalid PDU parameter) and close. */
  const protocolError = (message: string): void => {
    error ??= `protocol error from ${callingAet ?? 'peer'}@${remoteAddress}: ${message}`;
    if (!socket.destroyed) {
      try {
        scp.sendAbort(2, 6);
      } catch {
        /* already unusable */
      }
    }
    socket.destroy();
  };

  const respond = (request: DimseMessage, status: number, errorComment?: string): void => {
    if (socket.destroyed) return;
    const response = responseTo(request.command, status, errorComment);
    socket.cork();
    for (const buf of encodeMessage(request.pcId, response, undefined, peerMaxPdu)) socket.write(buf);
    socket.uncork();
  };

  const serve = async (message: DimseMessage, context: AcceptedContext): Promise<void> => {
    const { command } = message;
    switch (command.commandField) {
      case COMMAND.C_ECHO_RQ:
        respond(message, STATUS_SUCCESS);
        return;
      case COMMAND.C_STORE_RQ: {
        if (!message.dataset) {
          respond(message, STATUS_PROCESSING_FAILURE, 'C-STORE without a dataset');
          return;
        }
        let reply: StoreReply;
        try {
          reply = await handlers.store({
            callingAet: callingAet ?? '',
            remoteAddress,
            sopClassUid: command.affectedSopClassUid ?? '',
            sopInstanceUid: command.affectedSopInstanceUid ?? '',
            transferSyntaxUid: context.transferSyntax,
            chunks: message.dataset,
            byteLength: message.datasetLength,
          });
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
        queue = queue.then(() => serve(message, context));
      }
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      protocolError(err.message);
    }
  });

  scp.on('networkError', (err: Error) => {
    error ??= `connection with ${callingAet ?? 'peer'}@${remoteAddress}: ${err.message.replace(/^.*-> /, '')}`;
    socket.destroy();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= `connection with ${callingAet ?? 'peer'}@${remoteAddress}: ${err.code ?? err.message}`;
  });
  socket.once('close', () => {
    handlers.closed?.({ callingAet, remoteAddress, error: released ? undefined : error ?? (callingAet ? `${callingAet}@${remoteAddress} closed the connection without release` : undefined) });
  });
  return { close: () => socket.destroy() };
}

/** [result, source, reason] per PS3.8 9.3.4. */
const REJECTS: Record<RejectCause, [number, number, number]> = {
  'called-ae': [1, 1, 7],
  'calling-ae': [1, 1, 3],
  'not-allowed': [1, 1, 1],
  limit: [2, 3, 2],
};
