import { z } from 'zod';
import { validateDicomRoot } from '../anon/identity/pseudonyms';
import { isPostgresUrl } from '../anon/identity/store';
import { CHECKABLE_PRIVATE_VRS, parseSiteElement } from '../anon/rules/private-rules';
import { TLS_VERSIONS } from '../tls/settings';
import { webUrlProblem } from '../web/destination';

/** A postgres:// URL that parses; the message never echoes it (it may hold a password). */
const postgresUrl = z.string().min(1).refine((url) => {
  try {
    const u = new URL(url);
    return /^postgres(ql)?:$/.test(u.protocol) && !!u.hostname;
  } catch {
    return false;
  }
}, 'must be a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL');

const modalities = z.union([z.literal('*'), z.array(z.string().regex(/^[A-Z0-9_]{1,16}$/, 'a modality code like "CT"')).min(1)]);

const profile = z.strictObject({
  cleanDescriptors: z.boolean().default(true),
  retainLongitudinal: z.enum(['off', 'full', 'modified']).default('modified'),
  retainPatientCharacteristics: z.boolean().default(false),
  retainDeviceIdentity: z.boolean().default(false),
  retainUids: z.boolean().default(false),
  retainInstitutionIdentity: z.boolean().default(false),
  cleanGraphics: z.boolean().default(false),
  cleanStructuredContent: z.boolean().default(false),
  retainSafePrivate: z.boolean().default(false),
});

/** A private attribute a site reviewed for its own scanners: kept with Retain Safe Private on. */
const privateKeepRule = z.strictObject({
  creator: z.string().max(64).refine((c) => c.trim() !== '' && !c.includes('\\'), 'a Private Creator (LO, no backslash)'),
  element: z.string().refine((e) => parseSiteElement(e) !== undefined, 'an element like "(0029,xx10)" in an odd group above 0007'),
  vr: z.string().superRefine((vr, ctx) => {
    if (vr === 'PN') ctx.addIssue({ code: 'custom', message: 'PN is never kept: a person\'s name is not safe private data; remove this rule' });
    else if (!(CHECKABLE_PRIVATE_VRS as readonly string[]).includes(vr)) ctx.addIssue({ code: 'custom', message: `one of ${CHECKABLE_PRIVATE_VRS.join(', ')}` });
  }),
  vm: z.string().regex(/^\d+(-(\d+|n))?$/, 'a VM like "1", "3" or "1-n"').optional(),
});

const quarantine = z.strictObject({
  patientProtocol: z.boolean().default(true),
  screenCapture: z.boolean().default(true),
  burnedInAnnotation: z.boolean().default(true),
  suspectEquipment: z.array(z.string().min(1)).default(['north american imaging, inc', 'pacsgear', 'the dicom box']),
  riskySopClasses: z.boolean().default(true),
  allowSopClasses: z.array(z.string().regex(/^[0-9.]+$/, 'a SOP Class UID')).default([]),
});

const peer = z.strictObject({
  aet: z.string().min(1).max(16),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** DICOM TLS for every association to this peer, with the top-level `tls` settings. */
  tls: z.boolean().default(false),
});

/** Files and options of DICOM TLS (PS3.15 Annex B); peers and `local` turn it on with "tls": true. */
const tls = z.strictObject({
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  ca: z.string().min(1),
  minVersion: z.enum(TLS_VERSIONS).default('TLSv1.2'),
  checkHostname: z.boolean().default(true),
});

const path = z.string().min(1);

/** A DICOMweb research archive (STOW-RS, QIDO-RS); secrets live in the files or command it names. */
const webResearch = z.strictObject({
  url: z.string().superRefine((url, ctx) => {
    const problem = webUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  auth: z.union([
    z.strictObject({ basic: z.strictObject({ user: z.string().min(1).regex(/^[^:]*$/, 'no colon in a Basic user name'), passwordFile: path }) }),
    z.strictObject({ bearer: z.union([z.strictObject({ tokenFile: path }), z.strictObject({ tokenCommand: path })]) }),
  ], { error: 'expected {"basic": {"user": ..., "passwordFile": ...}}, {"bearer": {"tokenFile": ...}} or {"bearer": {"tokenCommand": ...}}' }).optional(),
  tls: z.strictObject({
    ca: path.optional(),
    cert: path.optional(),
    key: path.optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    checkHostname: z.boolean().optional(),
  }).refine((t) => !t.cert === !t.key, 'cert and key go together').optional(),
  filesPerRequest: z.number().int().min(1).max(10_000).optional(),
  megabytesPerRequest: z.number().int().min(1).max(4096).optional(),
  parallelRequests: z.number().int().min(1).max(16).optional(),
  /** How a push confirms delivery: QIDO-RS when offered (auto), QIDO-RS required (find), or not at all. */
  confirm: z.enum(['auto', 'find', 'none']).default('auto'),
});

const dimseResearch = peer.extend({
  /** How a push confirms delivery (src/scu/confirm.ts). */
  confirm: z.enum(['auto', 'commitment', 'find', 'none']).default('auto'),
});

export type PeerConfig = z.infer<typeof dimseResearch>;
export type WebResearchConfig = z.infer<typeof webResearch>;
export type ResearchConfig = PeerConfig | WebResearchConfig;

export function isWebResearch(research: ResearchConfig): research is WebResearchConfig {
  return 'url' in research;
}

/** The config file (dicom-pipeline.json). Every key is optional; defaults are the documented ones. */
export const configSchema = z.strictObject({
  local: z.strictObject({
    aet: z.string().min(1).max(16),
    port: z.number().int().min(1).max(65535),
    /** Calling AE titles our SCP accepts during a run; default: the staging AE only. */
    allowedCallingAets: z.array(z.string().min(1).max(16)).optional(),
    /** Our SCP's port speaks DICOM TLS only (staging's C-MOVE sub-associations must use it). */
    tls: z.boolean().default(false),
    /** Seconds an association into our SCP may send nothing before we abort it (frees its slot). */
    idleTimeoutS: z.number().positive().max(86_400).default(60),
  }).optional(),
  staging: peer.optional(),
  /** A DIMSE peer, or a DICOMweb archive (an object with "url"). */
  research: z.unknown().transform((value, ctx) => {
    // Chosen by shape, so that a problem is reported against the kind the user meant.
    const isWeb = !!value && typeof value === 'object' && 'url' in value;
    const result = (isWeb ? webResearch : dimseResearch).safeParse(value);
    if (result.success) return result.data as ResearchConfig;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
    return z.NEVER;
  }).optional(),
  tls: tls.optional(),
  /** Default number of studies per run (-m overrides). */
  maxStudies: z.number().int().min(1).default(10),
  review: z.union([
    z.strictObject({ csv: z.string().min(1) }),
    z.strictObject({ sqlite: z.string().min(1) }),
    z.strictObject({ postgres: postgresUrl }),
  ]).optional(),
  /** A SQLite file, or a postgres:// URL shared by several instances. */
  identityDb: z.string().min(1).default('identity.db').superRefine((target, ctx) => {
    if (isPostgresUrl(target) && !postgresUrl.safeParse(target).success) ctx.addIssue({ code: 'custom', message: 'must be a file name or a postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL' });
  }),
  /** Work sharing between instances (identityDb on PostgreSQL). */
  coordination: z.strictObject({
    /** A study whose owner has not renewed its claim for this long is taken over by another instance. */
    leaseS: z.number().int().min(5).max(86_400).default(120),
    /** After announcing itself, an instance waits this long so instances started together split the studies evenly. */
    gatherS: z.number().min(0).max(600).default(5),
  }).default({ leaseS: 120, gatherS: 5 }),
  keyFile: z.string().min(1).optional(),
  dataDir: z.string().min(1).default('data'),
  dicomRoot: z.string().optional().superRefine((root, ctx) => {
    const problem = root === undefined ? undefined : validateDicomRoot(root);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  allowedModalities: modalities.default(['MR', 'CT']),
  whiteList: z.string().min(1).optional(),
  postAnonHook: z.string().min(1).default('simple'),
  dateShiftDays: z.strictObject({ min: z.number().int().min(1), max: z.number().int().max(36500) })
    .refine((r) => r.min <= r.max, 'min must not exceed max').default({ min: 1, max: 3650 }),
  workers: z.number().int().min(1).max(64).optional(),
  profile: profile.default(profile.parse({})),
  /** Site rules for private attributes, applied only with profile.retainSafePrivate. */
  privateKeep: z.array(privateKeepRule).default([]).superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      const at = parseSiteElement(r.element);
      const id = `${r.creator.replace(/ +$/, '')}|${at?.group}|${at?.offset}`;
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [i], message: `${r.creator} ${r.element} is listed twice` });
      seen.add(id);
    });
  }),
  quarantine: quarantine.default(quarantine.parse({})),
  network: z.strictObject({
    connectTimeoutMs: z.number().int().min(100).optional(),
    associationTimeoutMs: z.number().int().min(100).optional(),
    dimseTimeoutMs: z.number().int().min(100).optional(),
    maxPduLength: z.number().int().min(4096).max(1 << 24).optional(),
    associations: z.number().int().min(1).max(16).optional(),
    requestsPerAssociation: z.number().int().min(1).optional(),
    retries: z.number().int().min(0).max(20).optional(),
    retryBackoffMs: z.number().int().min(0).optional(),
    commitmentTimeoutMs: z.number().int().min(100).optional(),
  }).default({}),
}).superRefine((config, ctx) => {
  // Whoever says "tls": true needs the tls block; our SCP also needs a certificate to present.
  for (const name of ['local', 'staging', 'research'] as const) {
    // A DICOMweb research archive has its own "tls" object (HTTPS), not DICOM TLS.
    const dicomTls = config[name]?.tls === true;
    if (dicomTls && !config.tls) ctx.addIssue({ code: 'custom', path: ['tls'], message: `required by ${name}.tls: give at least {"ca": FILE}, and "cert" and "key"` });
  }
  if (config.local?.tls && config.tls && (!config.tls.cert || !config.tls.key)) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'local.tls needs "cert" and "key": our SCP presents them to staging' });
  }
  if (config.tls && (config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: '"cert" and "key" go together: give both or neither' });
  }
});

export type PipelineConfig = z.infer<typeof configSchema>;
