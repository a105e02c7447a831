import type { BatchOp } from '../store/group-commit.js';

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
 * Where accepted device messages go durably before the device gets its PUBACK. The broker writes
 * each sink's operations, with the usage counters, in one group commit (src/store/group-commit.ts);
 * only then does aedes acknowledge the message. The uplink's outbox is a sink: it returns no
 * operations but contributes everything staged since the last batch as one record (a
 * CommitContributor), and learns of a failed batch from the group commit.
 * `stage` is synchronous so that the order of messages from one device is the order they are staged in.
 */
export interface IngestSink {
  readonly name: string;
  stage(message: AcceptedMessage): BatchOp[];
}
