/**
 * Benchmark options from argv (`--files 2000`, `--files=2000`, `--no-gdcm`) with environment
 * fallbacks (`BENCH_FILES=2000`). Pure: pass process.argv.slice(2) and process.env.
 */
export type OptionValue = number | string | boolean | number[];

export interface OptionSpec<T extends OptionValue> {
  readonly default: T;
  readonly help: string;
}

export type OptionSpecs = Record<string, OptionSpec<OptionValue>>;
export type ParsedOptions<S extends OptionSpecs> = { -readonly [K in keyof S]: S[K]['default'] };

/** `--flat-sizes` ↔ key `flatSizes` ↔ env `BENCH_FLAT_SIZES`. */
export function envName(key: string): string {
  return 'BENCH_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function convert(key: string, text: string, like: OptionValue): OptionValue {
  if (typeof like === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${flagName(key)} expects a number, got "${text}"`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    throw new Error(`${flagName(key)} expects true or false, got "${text}"`);
  }
  if (Array.isArray(like)) {
    const list = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (list.some((n) => !Number.isFinite(n))) throw new Error(`${flagName(key)} expects numbers separated by commas, got "${text}"`);
    return list;
  }
  return text;
}

export function parseOptions<S extends OptionSpecs>(specs: S, argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedOptions<S> {
  const out: Record<string, OptionValue> = {};
  const byFlag = new Map<string, string>();
  for (const key of Object.keys(specs)) {
    byFlag.set(flagName(key), key);
    const fromEnv = env[envName(key)];
    out[key] = fromEnv === undefined || fromEnv === '' ? specs[key].default : convert(key, fromEnv, specs[key].default);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const negated = flag.startsWith('--no-') && byFlag.has('--' + flag.slice(5));
    const key = byFlag.get(negated ? '--' + flag.slice(5) : flag);
    if (!key) throw new Error(`unknown option ${arg} (try --help)`);
    const like = specs[key].default;
    if (typeof like === 'boolean' && eq < 0) {
      out[key] = !negated;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    out[key] = convert(key, value, like);
  }
  return out as ParsedOptions<S>;
}

export function optionsHelp(specs: OptionSpecs): string {
  return Object.entries(specs)
    .map(([key, s]) => `  ${flagName(key).padEnd(22)} ${s.help} (default ${Array.isArray(s.default) ? s.default.join(',') || 'none' : s.default === '' ? 'none' : String(s.default)}; env ${envName(key)})`)
    .join('\n');
}

/**
 * A benchmark's command line: prints usage and returns undefined for --help; a bad option prints one
 * line and exits 2.
 */
export function readCommandLine<S extends OptionSpecs>(specs: S, script: string, argv = process.argv.slice(2), env: Readonly<Record<string, string | undefined>> = process.env): ParsedOptions<S> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`Usage: node dist/bench/${script} [options]\n${optionsHelp(specs)}\n`);
    return undefined;
  }
  try {
    return parseOptions(specs, argv, env);
  } catch (err) {
    process.stderr.write(`${script}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
