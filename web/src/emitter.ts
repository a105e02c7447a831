/** A typed event emitter: listeners know their payload; `on` returns the function that removes it. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) { set = new Set(); this.listeners.set(event, set); }
    set.add(listener as (payload: never) => void);
    return () => { set?.delete(listener as (payload: never) => void); };
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (p: Events[E]) => void)(payload);
      } catch (err) {
        // One broken view must not stop the others from updating.
        console.error(err);
      }
    }
  }

  clear(): void { this.listeners.clear(); }
}
