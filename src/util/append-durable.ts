import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/**
 * Appends text to a file and fsyncs it: all of it or none of it. On a full disk write(2) may take
 * part of the text and refuse the rest only on the next call; the part is then cut off again, so a
 * later append never continues a torn line.
 */
export function appendDurably(path: string, text: string): void {
  const fd = openSync(path, 'a');
  const size = fstatSync(fd).size;
  try {
    const bytes = Buffer.from(text);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, size);
    } catch {
      /* the text is lost either way; the error thrown says why */
    }
    throw err;
  } finally {
    closeSync(fd);
  }
}
