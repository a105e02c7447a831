import { Writable } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * Makes all the packets written to one connection during an event-loop turn leave in one socket write.
 *
 * mqtt-packet corks the stream for each packet and uncorks it on the next tick, and aedes delivers
 * each message to a subscriber from its own setImmediate callback, with the tick queue drained in
 * between: so every delivery became its own writev, its own TLS record and its own syscall (26% of the
 * gateway's CPU at 5,000 msg/s, bench/scenarios/profile.ts). Stream corking nests, so one outer cork,
 * taken at the first packet of a turn and released by setImmediate — after the current check phase's
 * deliveries — makes the per-packet uncorks no-ops until then. Nothing waits longer than the rest of
 * the turn; `end()` uncorks fully, so a closing connection still flushes what was written.
 *
 * The state lives here, not per connection: one shared `cork` function and one set of the sockets
 * holding the outer cork, released together by one setImmediate. Idle connections are most of a
 * gateway's connections, and a closure, a bound function and a timer callback each per connection
 * were memory that every one of them paid for.
 */
export function coalesceWrites(socket: Socket): void {
  socket.cork = coalescingCork;
}

/** Sockets holding the outer cork of this turn, in the order they took it. */
const held = new Set<Writable>();
const cork = Writable.prototype.cork;

function coalescingCork(this: Writable): void {
  if (!this.destroyed && !held.has(this)) {
    if (held.size === 0) setImmediate(releaseAll);
    held.add(this);
    cork.call(this);
  }
  cork.call(this);
}

function releaseAll(): void {
  const sockets = [...held];
  held.clear();
  for (const socket of sockets) socket.uncork();
}

/**
 * Writes `chunks` inside a cork released on the next tick, the way mqtt-packet writes a packet: on a
 * connection set up by coalesceWrites() the cork joins the turn's one socket write instead of making
 * a TLS record of its own. Returns the last write's answer (backpressure).
 */
export function writeCorked(stream: Writable, chunks: readonly Buffer[]): boolean {
  stream.cork();
  let ok = true;
  for (const chunk of chunks) ok = stream.write(chunk);
  process.nextTick(uncork, stream);
  return ok;
}

function uncork(stream: Writable): void {
  stream.uncork();
}
