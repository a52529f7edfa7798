/** Programmatic API: the same modules the CLI uses. */
export { anonymizeTree, type AnonymizeSummary } from './anon/anonymize-tree';
export type { AnonymizeSettings } from './anon/settings';
export { runPipeline, type RunRequest, type RunResult } from './run/runner';
export { loadConfig, parseConfig } from './config/load';
export { registry } from './run/hooks/registry';
export { PipelineError } from './errors';
