import net from 'node:net';

/** One DNS-SD service the gateway announces (the options of ciao's `createService`, plus why). */
export interface AnnouncedService {
  /** Instance name: gateway.name, as a browser lists it. */
  name: string;
  /** Service type without underscores: `mqtt`, `https` (or `http` when api.tls is off). */
  type: 'mqtt' | 'https' | 'http';
  port: number;
  /** Host name (without `.local`) the SRV record points at, answered by ciao with the gateway's addresses. */
  hostname: string;
  txt: Record<string, string>;
  /** The listener's address when it is bound to one; absent = every LAN interface. */
  restrictedAddresses?: string[];
  /** The listener is IPv4 only (`0.0.0.0` or an IPv4 address): no AAAA records that lead nowhere. */
  disabledIpv6: boolean;
}

export interface DiscoveryInput {
  gatewayName: string;
  mqtt: { host: string; port: number };
  api: { host: string; port: number; tls: boolean };
}

/** DNS-SD limits an instance name to 63 bytes (RFC 6763 4.1.1). */
const MAX_INSTANCE_BYTES = 63;

/**
 * The host name an SRV record points at: the gateway name as a DNS label plus the role, e.g.
 * `gw1-mqtt` and `gw1-api` (`.local`). Not the machine's own host name: on Raspberry Pi OS avahi
 * already owns `<hostname>.local`, and ciao would take avahi's answer as a conflict and rename the
 * services. One name per service, because ciao probes each service's host name as its own (two
 * services on one name conflict with each other). The generated server certificate covers both names
 * (src/certs/tls-material.ts), so a client may connect to the SRV target with TLS verification on.
 */
export function discoveryHostname(gatewayName: string, role: DiscoveryRole): string {
  const label = gatewayName.normalize('NFKD').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 58).replace(/-+$/, '');
  return `${label || 'ways-edge'}-${role}`;
}

export type DiscoveryRole = 'mqtt' | 'api';
export const DISCOVERY_ROLES: readonly DiscoveryRole[] = ['mqtt', 'api'];

/** What the gateway announces: the TLS MQTT listener and the API, each where it actually listens. */
export function announcedServices(input: DiscoveryInput): AnnouncedService[] {
  const name = truncateUtf8(input.gatewayName, MAX_INSTANCE_BYTES);
  return [
    // `_mqtt._tcp` usually means plain 1883; `tls=1` tells a browsing client this port wants TLS.
    { name, type: 'mqtt', port: input.mqtt.port, hostname: discoveryHostname(input.gatewayName, 'mqtt'), txt: { tls: '1' }, ...where(input.mqtt.host) },
    { name, type: input.api.tls ? 'https' : 'http', port: input.api.port, hostname: discoveryHostname(input.gatewayName, 'api'), txt: { path: '/' }, ...where(input.api.host) },
  ];
}

/** A listener bound to one address is announced only there; a wildcard one on every interface. */
function where(host: string): Pick<AnnouncedService, 'restrictedAddresses' | 'disabledIpv6'> {
  if (host === '' || host === '::') return { disabledIpv6: false };
  if (host === '0.0.0.0') return { disabledIpv6: true };
  const address = host === 'localhost' ? '127.0.0.1' : host;
  // A host name other than localhost: announce everywhere rather than guess which interface it is.
  if (!net.isIP(address)) return { disabledIpv6: false };
  return { restrictedAddresses: [address], disabledIpv6: net.isIPv4(address) };
}

function truncateUtf8(s: string, maxBytes: number): string {
  // By code point, so that a character is never cut in half.
  const chars = Array.from(s);
  while (Buffer.byteLength(chars.join('')) > maxBytes) chars.pop();
  return chars.join('');
}
