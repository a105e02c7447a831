/** `--name value` of a standalone bench script (outbox-cost, startup, …), or the fallback. */
export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? String(process.argv[i + 1]) : fallback;
}

export function numberArg(name: string, fallback: number): number {
  return Number(argValue(name, String(fallback)));
}
