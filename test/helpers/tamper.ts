/** The same string with its last character changed to one it is certainly not (a fixed "x" collides when the random value ends in "x"). */
export function withLastCharChanged(value: string): string {
  const last = value.slice(-1);
  return `${value.slice(0, -1)}${last === 'x' ? 'y' : 'x'}`;
}
