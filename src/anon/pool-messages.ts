import type { Claim, ClaimResult, FileOutcome } from './anonymize-file';

export type ToWorker =
  | { readonly type: 'batch'; readonly id: number; readonly paths: readonly string[] }
  | { readonly type: 'claimed'; readonly id: number; readonly results: readonly ClaimResult[] }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'claim'; readonly id: number; readonly claims: readonly Claim[] }
  | { readonly type: 'done'; readonly id: number; readonly outcomes: readonly FileOutcome[] }
  | { readonly type: 'fatal'; readonly message: string; readonly code?: string };
