/** A small argv parser: positional words and `--name value` / `--name=value` / `--flag` options. */
export interface ParsedArgs { positional: string[]; options: Map<string, string | true> }

const VALUE_OPTIONS = new Set(['config', 'scopes', 'url', 'key']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) { options.set(arg.slice(2, eq), arg.slice(eq + 1)); continue; }
      const name = arg.slice(2);
      const next = argv[i + 1];
      if (VALUE_OPTIONS.has(name) && next !== undefined) { options.set(name, next); i++; } else options.set(name, true);
    } else if (arg === '-h') options.set('help', true);
    else positional.push(arg);
  }
  return { positional, options };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
