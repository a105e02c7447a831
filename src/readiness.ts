/**
 * Which parts must be up before /readyz answers 200 (store open and writable, broker and API
 * listening), and why a part that was up is down again (the store recovering from a full disk).
 */
export class Readiness {
  private readonly parts = new Map<string, boolean>();
  private readonly reasons = new Map<string, string>();

  require(part: string): void { if (!this.parts.has(part)) this.parts.set(part, false); }

  /** `reason`: why the part is down, when it is not simply still starting. */
  set(part: string, up: boolean, reason?: string): void {
    this.parts.set(part, up);
    if (up || reason === undefined) this.reasons.delete(part);
    else this.reasons.set(part, reason);
  }

  get ready(): boolean { return this.parts.size > 0 && [...this.parts.values()].every(Boolean); }

  /** The first part that is down and why (no reason: it is starting); undefined when ready. */
  get notReady(): { part: string; reason: string | undefined } | undefined {
    if (this.ready) return undefined;
    for (const [part, up] of this.parts) if (!up) return { part, reason: this.reasons.get(part) };
    return { part: 'gateway', reason: undefined };
  }

  snapshot(): Record<string, boolean> { return Object.fromEntries(this.parts); }
}
