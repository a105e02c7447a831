import type { CiaoService, Responder, ResponderOptions } from '@homebridge/ciao';
import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { AnnouncedService } from './records.js';

export interface MdnsDeps {
  /** What to announce (src/discovery/records.ts), with the ports actually listening. */
  services: readonly AnnouncedService[];
  log: Logger;
}

interface Running { spec: AnnouncedService; service: CiaoService; advertised: Promise<void> }

/**
 * LAN discovery: announces the gateway's services with mDNS / DNS-SD (@homebridge/ciao, a responder
 * in this process). Started after the listeners, so nothing points at a port that is not open yet,
 * and stopped before them, with goodbye packets so that browsers drop the entries at once.
 *
 * Discovery is a convenience: if it cannot run (no multicast, a socket error) the gateway logs a
 * warning and keeps running. Announcing (probing for a unique name, ~1 s) runs in the background so
 * that it does not delay readiness.
 */
export class MdnsDiscovery implements Service {
  readonly name = 'discovery';
  private responder: Responder | undefined;
  private running: Running[] = [];

  constructor(private readonly deps: MdnsDeps) {}

  /** The services being announced, with the names ciao settled on (it renames on a conflict). */
  get announced(): Array<AnnouncedService & { fqdn: string }> {
    return this.running.map((r) => ({ ...r.spec, hostname: r.service.getHostname().replace(/\.local\.?$/, ''), fqdn: r.service.getFQDN() }));
  }

  /** Resolves once every service has been probed unique and announced (or failed to; tests wait on it). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.running.map((r) => r.advertised));
  }

  async start(): Promise<void> {
    const { log } = this.deps;
    try {
      // Loaded only when discovery is on: it opens sockets and registers source-map-support on import.
      const { getResponder } = await import('@homebridge/ciao');
      this.responder = getResponder(responderOptions(this.deps.services));
      for (const spec of this.deps.services) this.running.push(this.advertise(this.responder, spec));
    } catch (err) {
      log.warn({ event: 'discovery_failed', err: (err as Error).message }, 'mDNS discovery could not start; the gateway runs without it');
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    const running = this.running.splice(0);
    const responder = this.responder;
    this.responder = undefined;
    // destroy() sends goodbyes for announced services and cancels probing ones; a service still
    // queued behind another's probe is dropped when its turn comes, which settles its advertise().
    await Promise.allSettled(running.map((r) => r.service.destroy()));
    await Promise.allSettled(running.map((r) => r.advertised));
    // Only then: the responder binds its sockets asynchronously, and shutting down before that
    // finished would leave a socket open behind it.
    await responder?.shutdown();
  }

  private advertise(responder: Responder, spec: AnnouncedService): Running {
    const { log } = this.deps;
    const service = responder.createService({
      name: spec.name, type: spec.type, port: spec.port, hostname: spec.hostname, txt: spec.txt, disabledIpv6: spec.disabledIpv6,
      ...(spec.restrictedAddresses ? { restrictedAddresses: spec.restrictedAddresses } : {}),
    });
    service.on('name-change', (name: string) => log.info({ event: 'discovery_renamed', type: spec.type, name }, `mDNS: the name was taken on the LAN; announcing as "${name}"`));
    service.on('hostname-change', (hostname: string) => log.info({ event: 'discovery_renamed', type: spec.type, hostname }, `mDNS: the host name was taken on the LAN; using ${hostname}`));
    const advertised = service.advertise().then(
      () => log.info({ event: 'discovery_announced', type: `_${spec.type}._tcp`, name: service.getFQDN(), port: spec.port }, `announced ${service.getFQDN()} on port ${spec.port}`),
      (err: unknown) => log.warn({ event: 'discovery_failed', type: spec.type, err: (err as Error).message }, `mDNS: could not announce _${spec.type}._tcp`),
    );
    return { spec, service, advertised };
  }
}

/**
 * The responder listens only where every service is restricted to, when they all are (e.g. on loopback
 * in tests): then it sends nothing on the LAN and does not poll `ip link` for interfaces.
 */
function responderOptions(services: readonly AnnouncedService[]): ResponderOptions | undefined {
  const addresses = services.map((s) => s.restrictedAddresses);
  if (addresses.some((a) => a === undefined)) return undefined;
  return { interface: [...new Set(addresses.flatMap((a) => a ?? []))] };
}
