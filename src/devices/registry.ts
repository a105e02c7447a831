import { SYNC, type JsonSublevel, type Store } from '../store/store.js';
import { UNCACHED } from '../store/scan.js';
import type { Service } from '../lifecycle.js';
import { GatewayError } from '../errors.js';
import { TypedEmitter } from '../typed-emitter.js';
import { hashPassword, needsRehash, randomString, verifyPassword } from '../auth/secrets.js';
import { DEVICE_ID_PATTERN, DEVICE_ID_PREFIX, type DeviceRecord, type DeviceStatus, type MqttCredentials } from './device.js';
import type { DeviceInput } from './validate.js';

/** 32 base62 characters ≈ 190 bits, shown once. */
const PASSWORD_LENGTH = 32;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export type RegistryEvents = {
  /** The device may no longer be connected: disabled, deleted or its credentials rotated. */
  revoked: [deviceId: string, reason: 'disabled' | 'deleted' | 'rotated'];
  created: [device: DeviceRecord];
  /** Name, description, type, metadata or status changed (PATCH). */
  updated: [device: DeviceRecord];
  deleted: [deviceId: string];
};

export interface ListQuery { limit: number; offset: number; type?: string | undefined; status?: DeviceStatus | undefined }

type CheckResult = { ok: true; device: DeviceRecord } | { ok: false; reason: 'unknown' | 'disabled' | 'bad_password' };

/**
 * The device registry: records in the `devices` sublevel, mirrored in memory (a building has at most
 * thousands of devices) so that MQTT authentication and listing do not touch the disk.
 *
 * Writes of one device (PATCH, rotation, deletion, a login's hash upgrade) run one after the other,
 * each from the record as the previous one left it: two of them at once could otherwise undo each
 * other (a PATCH computed before a rotation would put the old password hash back).
 */
export class DeviceRegistry implements Service {
  readonly name = 'devices';
  readonly events = new TypedEmitter<RegistryEvents>();
  private readonly db: JsonSublevel<DeviceRecord>;
  private readonly byId = new Map<string, DeviceRecord>();
  private ordered: DeviceRecord[] | undefined;
  private lastCreatedMs = 0;
  /** The last write queued per device (see serially()). */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: { store: Store; maxDevices: number }) {
    this.db = deps.store.json<DeviceRecord>('devices');
  }

  async start(): Promise<void> {
    for await (const [id, record] of this.db.iterator(UNCACHED)) {
      this.byId.set(id, record);
      this.lastCreatedMs = Math.max(this.lastCreatedMs, record.created_ms);
    }
  }

  async stop(): Promise<void> {
    this.events.removeAll();
    this.byId.clear();
    this.ordered = undefined;
  }

  get count(): number { return this.byId.size; }

  get(deviceId: string): DeviceRecord | undefined { return this.byId.get(deviceId); }

  require(deviceId: string): DeviceRecord {
    const record = this.byId.get(deviceId);
    if (!record) throw new GatewayError('not_found', `no device with id ${deviceId}`);
    return record;
  }

  all(): readonly DeviceRecord[] {
    this.ordered ??= [...this.byId.values()].sort((a, b) => a.created_ms - b.created_ms);
    return this.ordered;
  }

  list(q: ListQuery): { devices: DeviceRecord[]; total: number } {
    const matching = this.all().filter((d) => (q.type === undefined || d.type === q.type) && (q.status === undefined || d.status === q.status));
    return { devices: matching.slice(q.offset, q.offset + q.limit), total: matching.length };
  }

  async create(input: Required<Pick<DeviceInput, 'name' | 'type'>> & DeviceInput): Promise<{ device: DeviceRecord; credentials: MqttCredentials }> {
    if (this.byId.size >= this.deps.maxDevices) {
      throw new GatewayError('quota_exceeded', `device quota reached: ${this.deps.maxDevices} devices (quota.max_devices)`);
    }
    this.assertNameFree(input.name);
    let deviceId: string;
    do deviceId = DEVICE_ID_PREFIX + randomString(12, ID_ALPHABET); while (this.byId.has(deviceId));
    const password = randomString(PASSWORD_LENGTH);
    const now = isoSeconds(new Date());
    // Unique and increasing, so that listing order is registration order even within one millisecond.
    const createdMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    this.lastCreatedMs = createdMs;
    const device: DeviceRecord = {
      device_id: deviceId,
      name: input.name,
      description: input.description ?? '',
      type: input.type,
      metadata: input.metadata ?? {},
      status: 'active',
      password_hash: hashPassword(password),
      created_at: now,
      updated_at: now,
      created_ms: createdMs,
    };
    // Re-check after the await: another request may have taken the name meanwhile.
    this.assertNameFree(input.name);
    await this.save(device);
    this.events.emit('created', device);
    return { device, credentials: { username: deviceId, password, client_id: deviceId } };
  }

  async update(deviceId: string, patch: DeviceInput): Promise<DeviceRecord> {
    this.require(deviceId);
    return this.serially(deviceId, async () => {
      const current = this.require(deviceId);
      if (patch.name !== undefined && patch.name !== current.name) this.assertNameFree(patch.name);
      const next: DeviceRecord = { ...current, ...patch, updated_at: isoSeconds(new Date()) };
      await this.save(next);
      if (current.status === 'active' && next.status === 'disabled') this.events.emit('revoked', deviceId, 'disabled');
      this.events.emit('updated', next);
      return next;
    });
  }

  async remove(deviceId: string): Promise<void> {
    this.require(deviceId);
    await this.serially(deviceId, async () => {
      this.require(deviceId);
      await this.db.del(deviceId, SYNC);
      this.byId.delete(deviceId);
      this.ordered = undefined;
      this.events.emit('revoked', deviceId, 'deleted');
      this.events.emit('deleted', deviceId);
    });
  }

  /** A new password; the old one stops working as soon as this resolves. */
  async rotate(deviceId: string): Promise<MqttCredentials> {
    this.require(deviceId);
    return this.serially(deviceId, async () => {
      const current = this.require(deviceId);
      const password = randomString(PASSWORD_LENGTH);
      await this.save({ ...current, password_hash: hashPassword(password), updated_at: isoSeconds(new Date()) });
      this.events.emit('revoked', deviceId, 'rotated');
      return { username: deviceId, password, client_id: deviceId };
    });
  }

  /**
   * True when the id names an active device and the password matches its hash. A hash in an older
   * format (scrypt, from an earlier version's store) is replaced by the current one once the password
   * has matched it; the result then carries the record with the new hash.
   */
  async checkPassword(deviceId: string, password: string): Promise<CheckResult> {
    if (!DEVICE_ID_PATTERN.test(deviceId)) return { ok: false, reason: 'unknown' };
    let device = this.byId.get(deviceId);
    if (!device) return { ok: false, reason: 'unknown' };
    // Checked again when the hash changed during the check: a rotation (then the password no longer
    // matches the new hash) or another login of the same device that upgraded it (then it does).
    for (let round = 0; round < 3; round++) {
      const hash = device.password_hash;
      const matches = await verifyPassword(password, hash);
      // Look again after the await: the device may have been disabled, deleted or rotated meanwhile.
      const now = this.byId.get(deviceId);
      if (!matches || !now) return { ok: false, reason: 'bad_password' };
      if (now.password_hash !== hash) { device = now; continue; }
      if (now.status !== 'active') return { ok: false, reason: 'disabled' };
      if (!needsRehash(hash)) return { ok: true, device: now };
      const upgraded = await this.upgradeHash(deviceId, hash, password);
      if (upgraded) return { ok: true, device: upgraded };
      const after = this.byId.get(deviceId);
      if (!after) return { ok: false, reason: 'bad_password' };
      device = after;
    }
    return { ok: false, reason: 'bad_password' };
  }

  /**
   * Replaces a verified old-format hash with the current format (same password). Resolves to the
   * record as it then is, or undefined when the hash or the status changed meanwhile (the caller
   * checks again). Not synced: if it is lost in a power cut, the next login upgrades it again. A
   * failed write keeps the old hash and lets the login through (it was verified).
   */
  private upgradeHash(deviceId: string, verifiedHash: string, password: string): Promise<DeviceRecord | undefined> {
    return this.serially(deviceId, async () => {
      const current = this.byId.get(deviceId);
      if (!current || current.password_hash !== verifiedHash || current.status !== 'active') return undefined;
      const next: DeviceRecord = { ...current, password_hash: hashPassword(password) };
      try {
        await this.db.put(deviceId, next);
      } catch {
        return current;
      }
      this.byId.set(deviceId, next);
      this.ordered = undefined;
      return next;
    });
  }

  /** Runs `write` after every write of `deviceId` queued before it (whether those failed or not). */
  private serially<T>(deviceId: string, write: () => Promise<T>): Promise<T> {
    const run = (this.writes.get(deviceId) ?? Promise.resolve()).then(write);
    const settled = run.then(() => undefined, () => undefined);
    this.writes.set(deviceId, settled);
    void settled.then(() => { if (this.writes.get(deviceId) === settled) this.writes.delete(deviceId); });
    return run;
  }

  private assertNameFree(name: string): void {
    for (const d of this.byId.values()) {
      if (d.name === name) throw new GatewayError('conflict', `a device named "${name}" already exists (${d.device_id})`);
    }
  }

  private async save(device: DeviceRecord): Promise<void> {
    await this.db.put(device.device_id, device, SYNC);
    this.byId.set(device.device_id, device);
    this.ordered = undefined;
  }
}

/** ISO 8601 UTC with whole seconds, as the seed shows timestamps. */
function isoSeconds(d: Date): string { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }
