import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Orthanc, type OrthancTls } from './orthanc';
import { freePort } from './ports';
import { fakeStudy, type FakeStudy } from './studies';

export const LOCAL_AET = 'DCMQR';

/** A staging Orthanc holding the given studies and an empty research Orthanc, both knowing our AE. */
export interface PipelinePeers {
  readonly staging: Orthanc;
  readonly research: Orthanc;
  readonly localPort: number;
  stop(): Promise<void>;
  /** A config for a run against them, with short network timeouts; `extra` keys win. */
  config(extra: Record<string, unknown>): Record<string, unknown>;
  /** Writes <dir>/<name>: config() with everything of a run kept in dir (reviewed.csv, identity.db and key, data/); returns its path. */
  writeRunConfig(dir: string, name: string, extra?: Record<string, unknown>): string;
}

/** With `tls`, both Orthancs speak DICOM TLS only, and staging moves to our SCP over TLS. */
export async function startPipelinePeers(studies: readonly FakeStudy[], tls?: OrthancTls): Promise<PipelinePeers> {
  const localPort = await freePort();
  const us = { aeTitle: LOCAL_AET, host: '127.0.0.1', port: localPort, tls: tls !== undefined };
  const staging = await Orthanc.start({ aeTitle: 'STAGING', modalities: { pipeline: us }, tls });
  const research = await Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipeline: us }, tls });
  for (const study of studies) for (const file of fakeStudy(study)) await staging.upload(file);
  const config = (extra: Record<string, unknown>): Record<string, unknown> => ({
    local: { aet: LOCAL_AET, port: localPort },
    staging: { aet: staging.aeTitle, host: '127.0.0.1', port: staging.dicomPort },
    research: { aet: research.aeTitle, host: '127.0.0.1', port: research.dicomPort },
    network: { connectTimeoutMs: 3000, associationTimeoutMs: 5000, dimseTimeoutMs: 20000, retries: 1, retryBackoffMs: 100 },
    ...extra,
  });
  return {
    staging,
    research,
    localPort,
    async stop() {
      await staging.stop();
      await research.stop();
    },
    config,
    writeRunConfig(dir, name, extra = {}) {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(config({
        review: { csv: join(dir, 'reviewed.csv') },
        identityDb: join(dir, 'identity.db'),
        keyFile: join(dir, 'identity.key'),
        dataDir: join(dir, 'data'),
        dicomRoot: '1.2.826.0.1.3680043.10.99',
        ...extra,
      }), null, 2));
      return file;
    },
  };
}
