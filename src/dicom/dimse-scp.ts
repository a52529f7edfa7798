/**
 * Serves one accepted TCP connection as a DICOM SCP over dcmjs-dimse, handing our code the raw
 * C-STORE dataset bytes: dcmjs-dimse never parses or re-encodes them (DESIGN.md §3). Policy (who may
 * associate, which contexts) and storage are callbacks, so this file stays library plumbing only.
 */
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { CEchoResponse, CStoreResponse, Dataset, FixedScp, type DimseAssociation, type NetworkInternals } from './dimse-lib';
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

/** Collects PDV payloads. write() never returns false: dcmjs-dimse would otherwise await 'drain' in
 * the middle of a PDU and process the following PDUs of the same socket out of order. */
class ChunkSink extends Writable {
  readonly chunks: Buffer[] = [];
  byteLength = 0;
  constructor() {
    super({ highWaterMark: 2 ** 30 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.byteLength += chunk.length;
    done();
  }
}

class ReceivedDataset extends Dataset {
  constructor(readonly sink: ChunkSink, transferSyntaxUid: string) {
    super({}, transferSyntaxUid);
  }
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

type Lib = typeof import('dcmjs-dimse');
type EchoRequest = InstanceType<Lib['requests']['CEchoRequest']>;
type EchoResponse = InstanceType<Lib['responses']['CEchoResponse']>;
type StoreRequest = InstanceType<Lib['requests']['CStoreRequest']>;
type StoreResponse = InstanceType<Lib['responses']['CStoreResponse']>;
type Context = InstanceType<Lib['association']['PresentationContext']>;
type Callback<T> = (value: T) => void;

/** Starts serving `socket`; returns a function that ends the connection. */
export function serveScpConnection(socket: Socket, handlers: ScpHandlers, options: ScpConnectionOptions): { close(): void } {
  socket.setNoDelay(true);
  const remoteAddress = normalizeAddress(socket.remoteAddress);
  let callingAet: string | undefined;
  let error: string | undefined;
  let released = false;

  class PipelineScp extends FixedScp {
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
      for (const { id, context } of association.getPresentationContexts()) {
        const ts = decision.transferSyntaxes.get(id);
        // One call per context: a later setResult would overwrite the accepted transfer syntax.
        if (ts) context.setResult(0, ts);
        else context.setResult(decision.unsupportedAbstract.has(id) ? 3 : 4);
      }
      association.setMaxPduLength(options.maxPduLength);
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      released = true;
      this.sendAssociationReleaseResponse();
      socket.end();
    }

    override cEchoRequest(request: EchoRequest, callback: Callback<EchoResponse>): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(STATUS_SUCCESS);
      callback(response);
    }

    override createStoreWritableStream(): Writable {
      return new ChunkSink();
    }

    /** Must call back synchronously: dcmjs-dimse resets its receive state inside this callback. */
    override createDatasetFromStoreWritableStream(writable: Writable, context: Context, callback: Callback<InstanceType<typeof Dataset>>): void {
      callback(new ReceivedDataset(writable as ChunkSink, context.getAcceptedTransferSyntaxUid() ?? ''));
    }

    override cStoreRequest(request: StoreRequest, callback: Callback<StoreResponse>): void {
      const dataset = request.getDataset() as unknown as ReceivedDataset;
      const respond = (reply: StoreReply): void => {
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(reply.status);
        if (reply.errorComment) response.setErrorComment(reply.errorComment.slice(0, 64));
        if (!socket.destroyed) callback(response);
      };
      handlers
        .store({
          callingAet: callingAet ?? '',
          remoteAddress,
          sopClassUid: String(request.getAffectedSopClassUid() ?? ''),
          sopInstanceUid: String(request.getAffectedSopInstanceUid() ?? ''),
          transferSyntaxUid: dataset.getTransferSyntaxUid(),
          chunks: dataset.sink.chunks,
          byteLength: dataset.sink.byteLength,
        })
        .then(respond, (err: unknown) => respond({ status: STATUS_PROCESSING_FAILURE, errorComment: err instanceof Error ? err.message : 'store failed' }));
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
