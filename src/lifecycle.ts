/**
 * The one lifecycle contract every service follows: the constructor does no I/O, `start()` acquires
 * resources (listeners, timers, handles) and `stop()` releases every one of them. Only
 * src/gateway.ts knows the order in which services start (and stops them in reverse).
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
