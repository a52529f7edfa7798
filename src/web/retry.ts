/** When and how long to wait before sending a DICOMweb request again. */
import type { IncomingHttpHeaders } from 'node:http';

/** 429 Too Many Requests and server-side trouble: the same request may succeed later. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** Longest wait a Retry-After header may impose on one attempt. */
const MAX_RETRY_AFTER_MS = 300_000;

/** Retry-After (seconds or an HTTP date) in ms, if the archive sent one. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined;
}

/** The archive's own wait wins over our backoff (first retry after `baseMs`, doubled each time). */
export function retryDelayMs(attempt: number, baseMs: number, headers?: IncomingHttpHeaders): number {
  const backoff = baseMs * 2 ** attempt;
  const asked = headers ? retryAfterMs(headers) : undefined;
  return asked === undefined ? backoff : Math.max(asked, Math.min(backoff, asked + baseMs));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
