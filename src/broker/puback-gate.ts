import type { Writable } from 'node:stream';
import type mqttPacket from 'mqtt-packet';
import { writeCorked } from './write-coalescing.js';
import type { AckHold } from './intake.js';

/**
 * Holds a connection's QoS 1 PUBACKs until the messages they acknowledge are on disk, so that aedes
 * can route a message to its subscribers at once instead of after the synced group commit.
 *
 * aedes answers a QoS 1 PUBLISH with its PUBACK as soon as authorizePublish calls back and routes the
 * message only after writing it (lib/handlers/publish.js). Calling back only once the message was
 * synced kept every local delivery waiting for an fsync, and a slow one (100 ms and more on this
 * machine now and then) stalled every message behind it. Here the broker calls back at once and this
 * gate keeps the PUBACK: the device still gets it only for a message that is on disk (src/broker/
 * intake.ts), and a message whose write failed gets none — its connection is closed and the device
 * sends it again. A local subscriber may then see that message twice, which QoS 1 allows.
 *
 * The gate sees the PUBACKs aedes writes through the packet writer (src/broker/packet-writer.ts) and
 * acts only on those written to a connection that has a gate. PUBACKs of one connection leave in the
 * order they were written (MQTT 3.1.1 §4.6): one not held waits behind held ones.
 */
type Packet = Parameters<typeof mqttPacket.writeToStream>[0];
type Stream = Parameters<typeof mqttPacket.writeToStream>[1];

/** What the gate closes when a batch it waits for fails (aedes' Client). */
export interface Closable { close(): void }

/** A PUBACK's place in the order: the batch its message waits for (0: none), and whether aedes has written it yet. */
interface Slot { messageId: number; batch: number; written: boolean }

const gates = new WeakMap<object, PubackGate>();

/** A PUBACK being written to `stream` (src/broker/packet-writer.ts): true when its gate takes it. */
export function takePuback(packet: Packet, stream: Stream): boolean {
  return gates.get(stream)?.take(packet) ?? false;
}

/**
 * One connection's gate. It is the group commit's listener for the batches its messages wait for
 * (src/store/group-commit.ts join()): batches end in order, so a slot is durable once the last synced
 * batch the gate heard of is at or past the slot's.
 */
export class PubackGate implements AckHold {
  private readonly slots: Slot[] = [];
  private syncedThrough = 0;

  private constructor(private readonly stream: Stream, private readonly client: Closable) {}

  /**
   * The gate of a connection's stream (the one given to aedes.handle), made on first use. When a
   * batch it waits for fails, the held PUBACKs are dropped and `client` (aedes' client of that
   * connection) is closed: the device sends those messages again.
   */
  static of(stream: Stream, client: Closable): PubackGate {
    let gate = gates.get(stream);
    if (!gate) {
      gate = new PubackGate(stream, client);
      gates.set(stream, gate);
    }
    return gate;
  }

  /** The PUBACK of `messageId`, when aedes writes it, waits until batch `batch` is synced. */
  hold(messageId: number, batch: number): void {
    this.slots.push({ messageId, batch, written: false });
  }

  batchCommitted(batch: number): void {
    if (batch > this.syncedThrough) this.syncedThrough = batch;
    this.flush();
  }

  batchFailed(): void {
    this.slots.length = 0;
    this.client.close();
  }

  /** A PUBACK being written: true when the gate keeps it (held, or queued behind held ones). */
  take(packet: Packet): boolean {
    if (this.slots.length === 0) return false;
    const messageId = (packet as { messageId?: number }).messageId;
    const slot = this.slots.find((s) => !s.written && s.messageId === messageId);
    if (slot) slot.written = true;
    else this.slots.push({ messageId: messageId ?? 0, batch: 0, written: true });
    this.flush();
    return true;
  }

  /**
   * Writes the PUBACKs at the front that may leave, all in one write. A PUBACK of MQTT 3.1/3.1.1
   * (all aedes speaks) is four fixed bytes, so they are laid out here rather than through
   * mqtt-packet, which made two writes and its debug calls per PUBACK: a synced batch releases
   * dozens of them per connection at full speed.
   */
  private flush(): void {
    let ready = 0;
    while (ready < this.slots.length) {
      const slot = this.slots[ready] as Slot;
      if (slot.batch > this.syncedThrough || !slot.written) break;
      ready += 1;
    }
    if (ready === 0) return;
    const released = this.slots.splice(0, ready);
    const stream = this.stream as Writable;
    if (stream.destroyed) { this.slots.length = 0; return; }
    const bytes = Buffer.allocUnsafe(PUBACK_BYTES * ready);
    released.forEach((slot, i) => writePuback(bytes, i * PUBACK_BYTES, slot.messageId));
    // Corked like every packet: on a gateway connection it joins the turn's one socket write.
    writeCorked(stream, [bytes]);
  }
}

/** MQTT 3.1.1 §3.4: fixed header 0x40, remaining length 2, the packet identifier (big-endian). */
export const PUBACK_BYTES = 4;

/** Lays out the PUBACK of `messageId` at `at` (the bench's load generator acknowledges with it too). */
export function writePuback(into: Buffer, at: number, messageId: number): void {
  into[at] = 0x40;
  into[at + 1] = 0x02;
  into[at + 2] = messageId >> 8;
  into[at + 3] = messageId & 0xff;
}
