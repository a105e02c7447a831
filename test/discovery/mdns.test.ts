import t from 'tap';
import dgram from 'node:dgram';
import { announcedServices, discoveryHostname } from '../../src/discovery/records.js';
import { startGateway, removeDir } from '../helpers/gateway.js';
import { mdnsQuery, decodeRecords, TYPE, type DnsRecord } from '../helpers/mdns-query.js';

t.test('what is announced follows where each listener listens', async (t) => {
  const base = { gatewayName: 'Building 7 gateway', mqtt: { host: '0.0.0.0', port: 8883 }, api: { host: '0.0.0.0', port: 8443, tls: true } };
  const [mqtt, api] = announcedServices(base);
  t.match(mqtt, { name: 'Building 7 gateway', type: 'mqtt', port: 8883, hostname: 'building-7-gateway-mqtt', txt: { tls: '1' }, disabledIpv6: true });
  t.equal(mqtt?.restrictedAddresses, undefined, 'a wildcard listener is announced on every interface');
  t.match(api, { type: 'https', port: 8443, hostname: 'building-7-gateway-api', txt: { path: '/' } });
  t.equal(announcedServices({ ...base, api: { host: '::', port: 80, tls: false } })[1]?.type, 'http', 'plain HTTP when api.tls is off');
  t.equal(announcedServices({ ...base, api: { host: '::', port: 80, tls: false } })[1]?.disabledIpv6, false, 'an IPv6 wildcard keeps AAAA records');
  t.same(announcedServices({ ...base, mqtt: { host: 'localhost', port: 1 } })[0]?.restrictedAddresses, ['127.0.0.1'], 'a bound listener only where it listens');
  t.same(announcedServices({ ...base, mqtt: { host: '192.0.2.10', port: 1 } })[0]?.restrictedAddresses, ['192.0.2.10']);
  t.equal(discoveryHostname('gw1', 'mqtt'), 'gw1-mqtt', 'never the machine name that avahi owns');
  t.equal(discoveryHostname('Café Nord — 2', 'api'), 'cafe-nord-2-api', 'a DNS label from any name');
  t.equal(discoveryHostname('***', 'mqtt'), 'ways-edge-mqtt');
  t.ok(discoveryHostname('x'.repeat(64), 'mqtt').length <= 63, 'one DNS label');
  const long = announcedServices({ ...base, gatewayName: 'ø'.repeat(64) })[0]?.name ?? '';
  t.ok(Buffer.byteLength(long) <= 63, 'instance names fit DNS-SD\'s 63 bytes');
});

/**
 * A real mDNS exchange over the loopback interface: multicast works on `lo` here, and a gateway whose
 * listeners bind 127.0.0.1 restricts its responder to that interface, so nothing goes on the LAN.
 */
t.test('the gateway announces _mqtt._tcp and _https._tcp, answers queries, and says goodbye on stop', async (t) => {
  const udpBefore = process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
  const name = `ways-edge test ${process.pid}`;
  const gw = await startGateway({ env: { WAYS_EDGE_DISCOVERY_ENABLED: 'true', WAYS_EDGE_GATEWAY_NAME: name } });
  t.teardown(async () => { await gw.stop(); removeDir(gw.dataDir); });
  const discovery = gw.gateway.discovery;
  if (!discovery) throw new Error('discovery did not start');
  await discovery.settled();
  t.same(discovery.announced.map((s) => [s.type, s.port, s.fqdn]), [
    ['mqtt', gw.gateway.mqttPort, `${name}._mqtt._tcp.local.`],
    ['https', gw.gateway.apiPort, `${name}._https._tcp.local.`],
  ], 'both services, on the ports that listen');

  const checkService = async (type: 'mqtt' | 'https', port: number, txt: string[]): Promise<void> => {
    const hostname = `${discoveryHostname(name, type === 'mqtt' ? 'mqtt' : 'api')}.local`;
    const records = await mdnsQuery(`_${type}._tcp.local`, TYPE.PTR);
    if (!records) throw new Error(`no answer for _${type}._tcp.local`);
    const of = (rtype: number, rname: string): DnsRecord | undefined => records.find((r) => r.type === rtype && r.name.toLowerCase() === rname.toLowerCase());
    t.equal(of(TYPE.PTR, `_${type}._tcp.local`)?.data, `${name}._${type}._tcp.local`, `PTR _${type}._tcp → the instance`);
    t.same(of(TYPE.SRV, `${name}._${type}._tcp.local`)?.data, { port, target: hostname }, 'SRV: port and host');
    t.same(of(TYPE.TXT, `${name}._${type}._tcp.local`)?.data, txt, 'TXT');
    t.equal(of(TYPE.A, hostname)?.data, '127.0.0.1', 'A: the loopback address only');
    t.notOk(records.some((r) => r.type === TYPE.AAAA), 'no AAAA for an IPv4 listener');
  };
  await checkService('mqtt', gw.gateway.mqttPort, ['tls=1']);
  await checkService('https', gw.gateway.apiPort, ['path=/']);

  // Listen on the group like any browser would, then stop: goodbyes (TTL 0) withdraw both services.
  const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const heard: DnsRecord[] = [];
  listener.on('message', (msg) => { if ((msg.readUInt8(2) & 0x80) !== 0) heard.push(...decodeRecords(msg)); });
  await new Promise<void>((resolve) => listener.bind(5353, resolve));
  listener.addMembership('224.0.0.251', '127.0.0.1');
  await gw.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await new Promise<void>((resolve) => listener.close(resolve));
  for (const type of ['mqtt', 'https']) {
    t.ok(heard.some((r) => r.type === TYPE.PTR && r.name === `_${type}._tcp.local` && r.data === `${name}._${type}._tcp.local` && r.ttl === 0), `goodbye for _${type}._tcp`);
  }
  t.equal(await mdnsQuery('_mqtt._tcp.local', TYPE.PTR, { timeoutMs: 1000 }), undefined, 'nobody answers after stop');
  // A closed UDP handle leaves the list of active resources on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length, udpBefore, 'the responder\'s sockets are closed');
});

t.test('discovery.enabled: false announces nothing', async (t) => {
  const gw = await startGateway();
  t.teardown(async () => { await gw.stop(); removeDir(gw.dataDir); });
  t.equal(gw.gateway.discovery, undefined, 'no responder (the test helpers switch it off for the whole suite)');
});
