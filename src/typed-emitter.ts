import { EventEmitter } from 'node:events';

/** An EventEmitter whose event names and payloads are checked by the compiler. */
export class TypedEmitter<Events extends Record<string, unknown[]>> {
  private readonly emitter = new EventEmitter();

  constructor() { this.emitter.setMaxListeners(100); }

  on<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): () => void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return () => this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  emit<E extends keyof Events & string>(event: E, ...args: Events[E]): void {
    this.emitter.emit(event, ...args);
  }

  removeAll(): void { this.emitter.removeAllListeners(); }
}
