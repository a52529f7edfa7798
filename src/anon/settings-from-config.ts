import { isPostgresUrl } from './identity/store';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PipelineConfig } from '../config/schema';
import { PipelineError } from '../errors';
import { readJsonFile } from '../util/json-file';
import type { AnonymizeSummary, PrivateAttributesReport } from './anonymize-tree';
import type { AnonymizeSettings } from './settings';

export const DEFAULT_WHITE_LIST = 'dicom_limited_vocabulary.json';

export interface SettingsOverrides {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly quarantineDir: string;
  readonly identityDb?: string;
  readonly whiteList?: string;
  readonly allowedModalities?: readonly string[] | '*';
  readonly workers?: number;
}

export function parseModalities(text: string): string[] | '*' {
  if (text.trim() === '*') return '*';
  const list = text.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
  const bad = list.filter((m) => !/^[A-Z0-9_]{1,16}$/.test(m));
  if (list.length === 0 || bad.length) throw new PipelineError('E_USAGE', `allowed modalities must be codes like MR,CT or '*'; got "${text}"`);
  return list;
}

/** A file is made absolute (workers may run elsewhere); a postgres:// URL is taken as it is. */
export function storeTarget(identityDb: string): string {
  return isPostgresUrl(identityDb) ? identityDb : resolve(identityDb);
}

/** The anonymizer's slice of the config, with the caller's directories and overrides (which win). */
export function settingsFromConfig(config: PipelineConfig, o: SettingsOverrides): AnonymizeSettings {
  const whiteListPath = o.whiteList ?? config.whiteList ?? (existsSync(DEFAULT_WHITE_LIST) ? DEFAULT_WHITE_LIST : undefined);
  return {
    inputDir: resolve(o.inputDir),
    outputDir: resolve(o.outputDir),
    quarantineDir: resolve(o.quarantineDir),
    identityDb: storeTarget(o.identityDb ?? config.identityDb),
    identity: { dicomRoot: config.dicomRoot, keyFile: config.keyFile, dateShiftDays: config.dateShiftDays },
    profile: config.profile,
    privateKeep: config.privateKeep,
    quarantine: { ...config.quarantine, allowedModalities: o.allowedModalities ?? config.allowedModalities },
    whiteList: whiteListPath ? readJsonFile(whiteListPath, 'white list') : undefined,
    workers: o.workers ?? config.workers,
  };
}

/** What Retain Safe Private kept, per row; the site's rules always listed (a rule that kept nothing may be mistyped). */
function formatPrivateAttributes(p: PrivateAttributesReport): string[] {
  if (!p.retainSafePrivate) {
    const lines = ['private:      all removed (profile.retainSafePrivate is off)'];
    if (p.siteRules.length) lines.push(`  ${p.siteRules.length} privateKeep site rules not applied: they need profile.retainSafePrivate`);
    return lines;
  }
  const total = Object.values(p.kept).reduce((a, b) => a + b, 0);
  const lines = [`private:      ${total} attributes kept by Retain Safe Private (PS3.15 Table E.3.10-1, ${p.tableRows} rows; ${p.siteRules.length} site rules)`];
  for (const [row, n] of Object.entries(p.kept).sort()) lines.push(`  ${row}: ${n}`);
  for (const rule of p.siteRules) if (!(`${rule} [site]` in p.kept)) lines.push(`  ${rule} [site]: 0`);
  return lines;
}

export function formatSummary(s: AnonymizeSummary): string {
  const lines = [
    `files in:     ${s.filesIn}`,
    `anonymized:   ${s.anonymized} (verified: ${s.verified})`,
    `quarantined:  ${s.quarantined}`,
    ...Object.entries(s.quarantinedByReason).sort().map(([reason, n]) => `  ${reason}: ${n}`),
  ];
  if (s.duplicates) lines.push(`duplicates:   ${s.duplicates} (identical copies, skipped)`);
  if (s.failed.length) lines.push(`failed:       ${s.failed.length}`, ...s.failed.slice(0, 20).map((f) => `  ${f}`));
  if (s.patientNameMismatches) {
    lines.push(`warning:      ${s.patientNameMismatches} files name a different patient than the first file with the same Patient ID ` +
      '(and issuer): they share one pseudonym. If two patients share an ID, set Issuer of Patient ID at the source.');
  }
  lines.push(...formatPrivateAttributes(s.privateAttributes));
  const rate = s.seconds > 0 ? (s.filesIn / s.seconds).toFixed(0) : '-';
  lines.push(`time:         ${s.seconds.toFixed(1)} s (${rate} files/s)`);
  return lines.join('\n');
}
