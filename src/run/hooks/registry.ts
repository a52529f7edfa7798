/** What a post-anonymization hook receives. */
export interface HookContext {
  /** The run directory (data/run_at_<epoch>); anonymized files are in its to_production/. */
  readonly runDir: string;
  /** Appends a line to the run's overview.txt. */
  readonly overview: { write(line: string): void };
  /** True in practice runs: the hook must change nothing outside the run directory. */
  readonly practice: boolean;
  /** Path of the identity map this run uses (a copy in practice runs). */
  readonly identityDb: string;
}

/** A hook returns text for post_anon_output.txt (or a promise of it). */
export type Hook = (context: HookContext) => string | Promise<string>;

export class HookRegistry {
  private readonly hooks = new Map<string, Hook>();

  register(fn: Hook, options: { name?: string } = {}): void {
    const name = options.name ?? fn.name;
    if (typeof fn !== 'function') throw new TypeError('registry.register expects a function');
    if (!name) throw new TypeError('registry.register needs { name } for an anonymous function');
    this.hooks.set(name, fn);
  }

  get(name: string): Hook | undefined {
    return this.hooks.get(name);
  }

  names(): string[] {
    return [...this.hooks.keys()].sort();
  }
}

/** The one registry custom_hooks.js files register into: require('dicom-pipeline/hooks').registry. */
export const registry = new HookRegistry();

/** The default: changes nothing, says so. */
registry.register((context) => `simple hook: nothing to do${context.practice ? ' (practice run)' : ''}\n`, { name: 'simple' });
