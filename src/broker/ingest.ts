/** A device message the broker has authorized (ACL, limits, quota) and is about to acknowledge. */
export interface AcceptedMessage {
  deviceId: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** Gateway receive time, ms since the epoch. */
  receivedAt: number;
}

/**
 * Where accepted device messages go durably before the device gets its PUBACK. A sink keeps what it
 * is given and contributes it to the broker's next group commit (it is a CommitContributor of
 * src/store/group-commit.ts, which also tells it of a failed batch); the commit carries the usage
 * counters too, and only once it is synced does the device get its PUBACK. The uplink's outbox is a
 * sink. `stage` is synchronous so that the order of messages from one device is the order they are
 * staged in.
 */
export interface IngestSink {
  readonly name: string;
  stage(message: AcceptedMessage): void;
}
