/**
 * The STOW-RS request body: multipart/related; type="application/dicom", one part per Part-10 file,
 * each file's bytes exactly as on disk, streamed (one read buffer per request in memory). Parts carry
 * `Content-Type: application/dicom` and nothing else: Orthanc's plugin (1.7) refuses a
 * transfer-syntax parameter there, and the Part-10 header names the syntax anyway.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { PipelineError } from '../errors';

export interface BodyFile {
  readonly path: string;
  /** Size when listed; the body's length is computed from it, and a file that changed fails the request. */
  readonly size: number;
}

export interface MultipartBody {
  readonly contentType: string;
  readonly length: number;
  open(): Readable;
}

const CRLF = '\r\n';

export function newBoundary(): string {
  // 128 random bits: the chance that a file contains "--" + boundary is nil for any real archive.
  return `dicom-pipeline-${randomBytes(16).toString('hex')}`;
}

export function multipartBody(files: readonly BodyFile[], boundary = newBoundary()): MultipartBody {
  const partHead = Buffer.from(`--${boundary}${CRLF}Content-Type: application/dicom${CRLF}${CRLF}`, 'latin1');
  const partEnd = Buffer.from(CRLF, 'latin1');
  const close = Buffer.from(`--${boundary}--${CRLF}`, 'latin1');
  const length = files.reduce((n, f) => n + partHead.length + f.size + partEnd.length, close.length);
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    length,
    open: () => Readable.from(parts(files, partHead, partEnd, close), { objectMode: false }),
  };
}

async function* parts(files: readonly BodyFile[], partHead: Buffer, partEnd: Buffer, close: Buffer): AsyncGenerator<Buffer> {
  for (const file of files) {
    yield partHead;
    let sent = 0;
    for await (const chunk of createReadStream(file.path, { highWaterMark: 256 << 10 })) {
      sent += (chunk as Buffer).length;
      if (sent > file.size) break;
      yield chunk as Buffer;
    }
    if (sent !== file.size) throw new PipelineError('E_IO', `${file.path} changed while it was being sent (${file.size} bytes listed, ${sent} read): files to push must not change`);
    yield partEnd;
  }
  yield close;
}
