/** Which parts must be up before /readyz answers 200 (store open, broker and API listening). */
export class Readiness {
  private readonly parts = new Map<string, boolean>();

  require(part: string): void { if (!this.parts.has(part)) this.parts.set(part, false); }
  set(part: string, up: boolean): void { this.parts.set(part, up); }

  get ready(): boolean { return this.parts.size > 0 && [...this.parts.values()].every(Boolean); }
  snapshot(): Record<string, boolean> { return Object.fromEntries(this.parts); }
}
