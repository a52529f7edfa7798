import type { Command } from 'commander';

interface CommandModule {
  register(program: Command): void;
}

/**
 * Each command lives in its own module and registers itself. Modules load only when needed: the
 * networking commands pull in dcmjs-dimse (~75 ms), which `anonymize` never uses.
 */
const COMMANDS: Record<string, () => CommandModule> = {
  run: () => require('./run'),
  anonymize: () => require('./anonymize'),
  echo: () => require('./echo'),
  find: () => require('./find'),
  listen: () => require('./listen'),
  pull: () => require('./pull'),
  push: () => require('./push'),
  'clean-data': () => require('./clean-data'),
  filter: () => require('./filter'),
  summary: () => require('./summary'),
  identity: () => require('./identity'),
};

/** Registers the named command only, or every command (for help, or the default `run`). */
export function registerCommands(program: Command, only?: string): void {
  const names = only && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  for (const name of names) COMMANDS[name]().register(program);
}
