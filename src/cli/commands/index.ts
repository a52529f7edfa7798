import type { Command } from 'commander';
import * as anonymize from './anonymize';
import * as run from './run';
import * as echo from './echo';
import * as find from './find';
import * as listen from './listen';
import * as pull from './pull';
import * as push from './push';
import * as cleanData from './clean-data';
import * as filter from './filter';
import * as summary from './summary';

/** Each command lives in its own module under src/cli/commands and registers itself here. */
export function registerCommands(program: Command): void {
  run.register(program);
  anonymize.register(program);
  echo.register(program);
  find.register(program);
  listen.register(program);
  pull.register(program);
  push.register(program);
  cleanData.register(program);
  filter.register(program);
  summary.register(program);
}
