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
 */
export function coalesceWrites(socket: Socket): void {
  const cork = socket.cork.bind(socket);
  let held = false;
  const release = (): void => {
    held = false;
    socket.uncork();
  };
  socket.cork = (): void => {
    if (!held && !socket.destroyed) {
      held = true;
      cork();
      setImmediate(release);
    }
    cork();
  };
}
