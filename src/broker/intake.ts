import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import type { Presence } from '../devices/presence.js';
import type { MessageRates } from '../metering/rates.js';
import type { Admission } from '../health/admission.js';
import type { BatchOp, CommitContributor, CommitListener, GroupCommit } from '../store/group-commit.js';
import { overQuota } from '../metering/quota.js';
import { GatewayError } from '../errors.js';
import type { AcceptedMessage, IngestSink } from './ingest.js';

export type Done = (err?: Error | null) => void;

/** The intake adds no operations of its own to a batch (the sinks and the meter contribute theirs). */
const NO_OPS: BatchOp[] = [];

/**
 * Where the acknowledgement of a QoS 1 message from a live connection waits for its write
 * (src/broker/puback-gate.ts): given it, the intake lets aedes route the message at once. It joins
 * the group commit's batch as a listener and holds the PUBACK of `messageId` until that batch ends.
 */
export interface AckHold extends CommitListener {
  hold(messageId: number, batch: number): void;
}

/**
 * The last step of a device message that passed the ACL, size and rate checks: the monthly quota,
 * the usage counters and the durable hand-over to the ingest sinks (the uplink's outbox).
 *
 * aedes sends a QoS 1 PUBACK as soon as authorizePublish calls back (lib/handlers/publish.js), and only
 * then routes the message. The PUBACK must wait until the sinks' operations *and the meter's counters*
 * are on disk, in one synced group commit (src/store/group-commit.ts; the meter and the outbox
 * contribute to every batch), so that an acknowledged message is never missing from the outbox or
 * the counters, also after kill -9. With an `ackHold` (a live connection's QoS 1 message) `done` is
 * called at once and the PUBACK waits in the connection's gate (src/broker/puback-gate.ts): local
 * subscribers get the message without waiting for the disk. Without one (wills, QoS 2) `done` waits
 * for the commit. QoS 0 promises nothing, so it is staged and routed without waiting, and written with
 * the next batch (src/store/group-commit.ts commitSoon).
 */
export class Intake implements CommitContributor {
  /** Devices refused for quota in the current episode, so each is logged once, not per message. */
  private readonly overQuotaLogged = new Set<string>();
  /**
   * Messages handed to the batch being gathered and to the one being written (QoS 0: staged, nobody
   * waits; QoS 1: the PUBACK waits): a failed batch is logged once per QoS with its count, not once
   * per message. pendingOps() swaps the two when the group commit takes the batch.
   */
  private gathering = { qos0: 0, qos1: 0 };
  private writing = { qos0: 0, qos1: 0 };

  constructor(private readonly deps: {
    quota: GatewayConfig['quota'];
    log: Logger;
    meter: Meter;
    rates: MessageRates;
    /** Closed while the gateway must not take new telemetry (e.g. the disk is nearly full). */
    admission: Admission;
    presence: Presence;
    commits: GroupCommit;
    sinks: readonly IngestSink[];
  }) {
    deps.commits.addContributor(this);
  }

  accept(deviceId: string, topic: string, payload: Buffer, qos: 0 | 1 | 2, done: Done, ackHold?: AckHold, messageId = 0): void {
    const { meter, commits } = this.deps;
    if (!this.deps.admission.accepting()) {
      // The health monitor logs why (once per episode); the device retries after reconnecting.
      meter.count(deviceId, 'rejected', 0);
      done(new GatewayError('disk_full', `the gateway is not taking messages now (${this.deps.admission.reason ?? 'blocked'})`));
      return;
    }
    const over = overQuota(this.deps.quota, meter.monthUsage());
    if (over !== undefined) {
      this.refuseOverQuota(deviceId, over);
      done(new GatewayError('quota_exceeded', `the monthly ${over} quota is used up`));
      return;
    }
    if (this.overQuotaLogged.size > 0) this.quotaAvailableAgain();

    this.deps.presence.seen(deviceId);
    meter.count(deviceId, 'in', payload.length);
    this.deps.rates.record('in', payload.length);
    const message: AcceptedMessage = { deviceId, topic, payload, qos, receivedAt: Date.now() };
    try {
      for (const sink of this.deps.sinks) sink.stage(message);
    } catch (err) {
      this.deps.log.error({ event: 'ingest_stage_failed', device_id: deviceId, err }, 'an ingest sink failed to stage a message');
      done(new GatewayError('internal', 'could not store the message', { cause: err }));
      return;
    }
    if (qos === 0) {
      // Nothing to wait for: written with the next batch, or within SOFT_COMMIT_DELAY_MS; the
      // counters ride along with it or with the periodic flush.
      if (this.deps.sinks.length > 0) { commits.commitSoon(NO_OPS); this.gathering.qos0 += 1; }
      done(null);
      return;
    }
    if (qos === 1 && ackHold) {
      // Even with no sink the batch is needed: it carries the counters of the message being acknowledged.
      ackHold.hold(messageId, commits.join(NO_OPS, ackHold));
      this.gathering.qos1 += 1;
      done(null);
      return;
    }
    commits.commit(NO_OPS).then(() => done(null), (err: unknown) => {
      this.deps.log.error({ event: 'ingest_commit_failed', device_id: deviceId, qos, err }, 'storing a device message failed; it was not acknowledged');
      done(new GatewayError('internal', 'could not store the message', { cause: err }));
    });
  }

  // ---- the group commit's contributor: no operations, only the counts of its messages ------------

  pendingOps(): BatchOp[] {
    const taken = this.gathering;
    this.gathering = this.writing;
    this.gathering.qos0 = 0;
    this.gathering.qos1 = 0;
    this.writing = taken;
    return NO_OPS;
  }

  committed(): void {
    this.writing.qos0 = 0;
    this.writing.qos1 = 0;
  }

  commitFailed(err: unknown): void {
    const { qos0, qos1 } = this.writing;
    this.committed();
    const log = this.deps.log;
    if (qos1 > 0) log.error({ event: 'ingest_commit_failed', qos: 1, messages: qos1, err }, `storing ${qos1} QoS 1 message(s) failed; they were not acknowledged and their connections are closed`);
    if (qos0 > 0) log.error({ event: 'ingest_commit_failed', qos: 0, messages: qos0, err }, `storing ${qos0} QoS 0 message(s) failed; they are lost`);
  }

  private refuseOverQuota(deviceId: string, over: 'messages' | 'bandwidth'): void {
    this.deps.meter.count(deviceId, 'rejected', 0);
    if (this.overQuotaLogged.has(deviceId)) return;
    this.overQuotaLogged.add(deviceId);
    const limit = over === 'messages' ? `quota.max_messages_per_month = ${this.deps.quota.max_messages_per_month}` : `quota.max_bandwidth_gb = ${this.deps.quota.max_bandwidth_gb}`;
    this.deps.log.warn({ event: 'mqtt_quota_exceeded', device_id: deviceId, quota: over },
      `monthly ${over} quota used up (${limit}): refusing messages from ${deviceId} (its connection is closed) until the quota period resets or the quota is raised`);
  }

  private quotaAvailableAgain(): void {
    this.deps.log.info({ event: 'mqtt_quota_available', devices: this.overQuotaLogged.size }, 'the monthly quota allows messages again');
    this.overQuotaLogged.clear();
  }
}
