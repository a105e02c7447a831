import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { DEVICE_ID_PREFIX } from '../devices/device.js';
import { hasScope, type ApiKeys } from '../auth/api-keys.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { mayPublish, type MqttPrincipal } from './acl.js';
import { AuthQueue } from './auth-queue.js';
import { FailureThrottle } from './failure-throttle.js';

/** Applications log in as `app:<API key name>` with the key as password. */
export const APP_USERNAME_PREFIX = 'app:';

/** Connections that may wait for a password check at once beyond the running checks (see AuthQueue). */
const AUTH_QUEUE_MAX = 256;
/** Refused CONNECTs whose answer may be held back at once; past this they are answered at once. */
const MAX_DELAYED_ANSWERS = 1_000;

/** What a CONNECT offers, as the hooks collected it (preConnect + authenticate). */
export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  keepalive: number;
  willTopic: string | undefined;
  /** Remote address of the connection ('' if unknown). */
  address: string;
  /** True once the connection has gone (then the password check is skipped). */
  closed: () => boolean;
}

export interface Admitted {
  principal: MqttPrincipal;
  /** For a device: the password hash it logged in with; if that changes, the login is stale. */
  passwordHash?: string;
}

/**
 * Decides whether a CONNECT may become a session: the device's password (through AuthQueue),
 * or an application's API key with the `mqtt` scope; client id, keepalive and will rules. Refusals are
 * GatewayErrors (src/broker/connack.ts turns them into return codes). Refused credentials are counted
 * per remote address and per username, and repeated ones answered ever later (FailureThrottle); a
 * malformed CONNECT (client id, will, keepalive) is refused at once, as it guesses nothing.
 */
export class Authenticator {
  private readonly queue: AuthQueue;
  private readonly throttle = new FailureThrottle();
  private delayedAnswers = 0;

  constructor(private readonly deps: { registry: DeviceRegistry; apiKeys: ApiKeys; mqtt: GatewayConfig['mqtt']; log: Logger }) {
    this.queue = new AuthQueue(deps.mqtt.auth_concurrency, AUTH_QUEUE_MAX);
  }

  async admit(attempt: ConnectAttempt): Promise<Admitted | undefined> {
    // Refusals of the CONNECT's shape are answered at once: they guess nothing.
    const principal = this.principalOf(attempt);
    const keys = [`a:${attempt.address}`, `u:${attempt.username ?? ''}`];
    // An address that keeps failing gets no password check while it backs off: a guesser with many
    // parallel connections would otherwise fill the password-check queue and starve every other device's
    // login. Only the address decides this, so nobody can lock a device out by guessing its password.
    const backoff = this.throttle.backoffMs(keys[0] as string);
    if (backoff > 0) {
      this.deps.log.debug({ event: 'mqtt_connect_backoff', username: attempt.username, address: attempt.address, retry_ms: backoff }, 'MQTT connection refused: failed logins from this address');
      throw new GatewayError('rate_limited', `too many failed logins from ${attempt.address}; retry in ${Math.ceil(backoff / 1000)} s`);
    }
    try {
      const admitted = await this.verify(principal, attempt);
      if (admitted) this.throttle.succeeded(keys);
      return admitted;
    } catch (err) {
      if (!isGatewayError(err) || err.code === 'rate_limited') throw err;
      const delayMs = this.throttle.failed(keys);
      this.deps.log.info({
        event: 'mqtt_auth_failed', code: err.code, reason: err.message, username: attempt.username, client_id: attempt.clientId,
        address: attempt.address, delay_ms: delayMs,
      }, `MQTT connection refused: ${err.message}`);
      if (delayMs > 0 && this.delayedAnswers < MAX_DELAYED_ANSWERS) {
        this.delayedAnswers += 1;
        try { await sleep(delayMs); } finally { this.delayedAnswers -= 1; }
      }
      throw err;
    }
  }

  /** Who the CONNECT claims to be, if its shape is acceptable: username, client id, keepalive, will. */
  private principalOf(attempt: ConnectAttempt): MqttPrincipal {
    const { username, password } = attempt;
    if (username === undefined || username === '' || password === undefined) {
      throw this.refused(attempt, new GatewayError('unauthorized', 'username and password are required (device id and its MQTT password, or app:<key name> and an API key)'));
    }
    this.checkKeepalive(attempt);
    let principal: MqttPrincipal;
    if (username.startsWith(APP_USERNAME_PREFIX)) {
      // A device id as client id would take over that device's session and its queued commands.
      if (attempt.clientId.startsWith(DEVICE_ID_PREFIX)) throw this.refused(attempt, new GatewayError('forbidden', `an application may not use a device id as its client id (${attempt.clientId})`));
      principal = { kind: 'app', name: username.slice(APP_USERNAME_PREFIX.length) };
    } else {
      if (attempt.clientId !== username) throw this.refused(attempt, new GatewayError('forbidden', `client id must equal the device id (${username})`));
      principal = { kind: 'device', deviceId: username };
    }
    // A will is a publish made later on the client's behalf: the same ACL, checked now.
    if (attempt.willTopic !== undefined && !mayPublish(principal, attempt.willTopic)) {
      throw this.refused(attempt, new GatewayError('forbidden', `the will topic ${attempt.willTopic} is not one this client may publish to`));
    }
    return principal;
  }

  /** The credentials: the device's password (queued) or the application's API key and scope. */
  private async verify(principal: MqttPrincipal, attempt: ConnectAttempt): Promise<Admitted | undefined> {
    const password = (attempt.password as Buffer).toString('utf8');
    if (principal.kind === 'app') {
      const holder = this.deps.apiKeys.authenticateNamed(principal.name, password);
      if (!holder) throw new GatewayError('unauthorized', 'bad username or password');
      if (!hasScope(holder, 'mqtt')) throw new GatewayError('forbidden', `API key ${principal.name} lacks the "mqtt" scope`);
      return { principal };
    }
    const result = await this.queue.run(() => this.deps.registry.checkPassword(principal.deviceId, password), attempt.closed, attempt.address);
    if (result === undefined) return undefined;
    if (!result.ok) {
      if (result.reason === 'disabled') throw new GatewayError('forbidden', `device ${principal.deviceId} is disabled`);
      throw new GatewayError('unauthorized', 'bad username or password');
    }
    return { principal, passwordHash: result.device.password_hash };
  }

  private refused(attempt: ConnectAttempt, err: GatewayError): GatewayError {
    this.deps.log.info({ event: 'mqtt_connect_refused', code: err.code, reason: err.message, username: attempt.username, client_id: attempt.clientId, address: attempt.address },
      `MQTT connection refused: ${err.message}`);
    return err;
  }

  /**
   * MQTT 3.1.1 cannot tell a client to use a shorter keepalive, so one over the cap (or 0, which means
   * "never") is refused with "identifier rejected", as mosquitto's max_keepalive does.
   */
  private checkKeepalive(attempt: ConnectAttempt): void {
    const cap = this.deps.mqtt.keepalive_max_seconds;
    const keepalive = attempt.keepalive;
    if (cap > 0 && (keepalive === 0 || keepalive > cap)) {
      throw this.refused(attempt, new GatewayError('bad_request', `keepalive must be 1..${cap} seconds (got ${keepalive})`));
    }
  }
}
