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
}

/** With `tls`, both Orthancs speak DICOM TLS only, and staging moves to our SCP over TLS. */
export async function startPipelinePeers(studies: readonly FakeStudy[], tls?: OrthancTls): Promise<PipelinePeers> {
  const localPort = await freePort();
  const us = { aeTitle: LOCAL_AET, host: '127.0.0.1', port: localPort, tls: tls !== undefined };
  const staging = await Orthanc.start({ aeTitle: 'STAGING', modalities: { pipeline: us }, tls });
  const research = await Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipeline: us }, tls });
  for (const study of studies) for (const file of fakeStudy(study)) await staging.upload(file);
  return {
    staging,
    research,
    localPort,
    async stop() {
      await staging.stop();
      await research.stop();
    },
    config: (extra) => ({
      local: { aet: LOCAL_AET, port: localPort },
      staging: { aet: staging.aeTitle, host: '127.0.0.1', port: staging.dicomPort },
      research: { aet: research.aeTitle, host: '127.0.0.1', port: research.dicomPort },
      network: { connectTimeoutMs: 3000, associationTimeoutMs: 5000, dimseTimeoutMs: 20000, retries: 1, retryBackoffMs: 100 },
      ...extra,
    }),
  };
}
