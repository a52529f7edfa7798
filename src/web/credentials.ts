/**
 * The credential sent to a DICOMweb archive. Secrets are read from files (re-read when the file
 * changes, for sites that rotate tokens) or printed by a command (for short-lived tokens), held only
 * in memory and never put into a message: messages name the user and the file or config key instead.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { PipelineError } from '../errors';
import type { WebAuth } from './destination';

export interface Credential {
  /** The Authorization header value, or undefined when the archive is open. */
  header(): Promise<string | undefined>;
  /** After a 401: fetch a fresh secret if that can help (a token command is run again); false if not. */
  renew(): Promise<boolean>;
  /** The archive took it: a later refusal may be helped by renewing again. */
  accepted(): void;
  /** Which credential this is, safe to print (never the secret). */
  readonly description: string;
}

const NO_CREDENTIAL: Credential = { header: async () => undefined, renew: async () => false, accepted() {}, description: 'no credential (none configured)' };

/** A secret file, re-read whenever its size or modification time changes. */
class SecretFile {
  private stamp = '';
  private value = '';

  constructor(private readonly path: string, private readonly what: string) {}

  read(): string {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      if (stamp !== this.stamp) {
        // One trailing newline (as `echo` writes) is not part of the secret.
        this.value = readFileSync(this.path, 'utf8').replace(/\r?\n$/, '');
        this.stamp = stamp;
      }
    } catch (err) {
      throw new PipelineError('E_CONFIG', `cannot read the ${this.what} ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    if (!this.value) throw new PipelineError('E_CONFIG', `the ${this.what} ${this.path} is empty`);
    if (/[\r\n]/.test(this.value)) throw new PipelineError('E_CONFIG', `the ${this.what} ${this.path} must hold one line`);
    return this.value;
  }
}

function runTokenCommand(command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 1 << 16, encoding: 'utf8' }, (err, stdout) => {
      // Neither the command (it may embed a secret) nor its output is quoted.
      if (err) {
        const how = (err as { killed?: boolean }).killed ? `did not finish within ${timeoutMs / 1000} s` : `failed (exit ${(err as { code?: unknown }).code ?? '?'})`;
        reject(new PipelineError('E_CONFIG', `the token command (research.auth.bearer.tokenCommand) ${how}`, { cause: err }));
        return;
      }
      const token = stdout.trim();
      if (!token || /\s/.test(token)) reject(new PipelineError('E_CONFIG', 'the token command (research.auth.bearer.tokenCommand) must print one token and nothing else'));
      else resolve(token);
    });
  });
}

export function createCredential(auth: WebAuth | undefined, options: { tokenCommandTimeoutMs?: number } = {}): Credential {
  if (!auth) return NO_CREDENTIAL;
  if ('basic' in auth) {
    const { user, passwordFile } = auth.basic;
    const file = new SecretFile(passwordFile, 'password file');
    return {
      header: async () => `Basic ${Buffer.from(`${user}:${file.read()}`, 'utf8').toString('base64')}`,
      renew: async () => false,
      accepted() {},
      description: `user "${user}" with the password in ${passwordFile}`,
    };
  }
  const bearer = auth.bearer;
  if ('tokenFile' in bearer) {
    const file = new SecretFile(bearer.tokenFile, 'token file');
    return { header: async () => `Bearer ${file.read()}`, renew: async () => false, accepted() {}, description: `the bearer token in ${bearer.tokenFile}` };
  }
  const timeoutMs = options.tokenCommandTimeoutMs ?? 30_000;
  let token: Promise<string> | undefined;
  let renewed = false;
  return {
    header: async () => `Bearer ${await (token ??= runTokenCommand(bearer.tokenCommand, timeoutMs))}`,
    async renew() {
      // Short-lived tokens expire during long pushes: one fresh token per refusal in a row.
      if (renewed) return false;
      renewed = true;
      token = runTokenCommand(bearer.tokenCommand, timeoutMs);
      await token;
      return true;
    },
    accepted() {
      renewed = false;
    },
    description: 'the bearer token printed by the token command (research.auth.bearer.tokenCommand)',
  };
}
