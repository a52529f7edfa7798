import type { FileOutcome } from './anonymize-file';

export type ClaimResult = 'first' | 'same' | 'conflict';

export type ToWorker =
  | { readonly type: 'file'; readonly id: number; readonly path: string }
  | { readonly type: 'claimed'; readonly id: number; readonly result: ClaimResult }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'claim'; readonly id: number; readonly sopInstanceUid: string; readonly contentHash: string }
  | { readonly type: 'done'; readonly id: number; readonly outcome: FileOutcome }
  | { readonly type: 'fatal'; readonly message: string; readonly code?: string };
