import t from 'tap';
import { mayPublish, mayReceive, maySubscribe, type MqttPrincipal } from '../../src/broker/acl.js';

const A = 'iot_dev_aaaaaaaaaaaa';
const B = 'iot_dev_bbbbbbbbbbbb';
const device: MqttPrincipal = { kind: 'device', deviceId: A };
const app: MqttPrincipal = { kind: 'app', name: 'bms' };

type Row = [topic: string, device: boolean, app: boolean];

t.test('publish: a device only on its own telemetry/events/status; an app only on a device\'s commands/config/firmware', async (t) => {
  const rows: Row[] = [
    [`devices/${A}/telemetry`, true, false],
    [`devices/${A}/events`, true, false],
    [`devices/${A}/status`, true, false],
    [`devices/${A}/commands`, false, true],
    [`devices/${A}/config`, false, true],
    [`devices/${A}/firmware`, false, true],
    [`devices/${B}/telemetry`, false, false],
    [`devices/${B}/commands`, false, true],
    [`devices/${A}/telemetry/extra`, false, false],
    [`devices/${A}`, false, false],
    [`devices/${A}/`, false, false],
    [`devices/${A}/Telemetry`, false, false],
    [`/devices/${A}/telemetry`, false, false],
    [`devices//telemetry`, false, false],
    ['devices/+/commands', false, false],
    ['devices/not_a_device/commands', false, false],
    [`devices/${A}x/commands`, false, false],
    ['$SYS/broker/uptime', false, false],
    [`$SYS/devices/${A}/telemetry`, false, false],
    ['telemetry', false, false],
    ['', false, false],
  ];
  for (const [topic, forDevice, forApp] of rows) {
    t.equal(mayPublish(device, topic), forDevice, `device publish ${JSON.stringify(topic)} → ${forDevice}`);
    t.equal(mayPublish(app, topic), forApp, `app publish ${JSON.stringify(topic)} → ${forApp}`);
  }
});

t.test('subscribe: a device only to its own commands/config/firmware, no wildcards; an app to device uplink topics, + allowed for the id', async (t) => {
  const rows: Row[] = [
    [`devices/${A}/commands`, true, false],
    [`devices/${A}/config`, true, false],
    [`devices/${A}/firmware`, true, false],
    [`devices/${A}/telemetry`, false, true],
    [`devices/${A}/events`, false, true],
    [`devices/${A}/status`, false, true],
    ['devices/+/telemetry', false, true],
    ['devices/+/events', false, true],
    ['devices/+/status', false, true],
    ['devices/+/commands', false, false],
    [`devices/${B}/commands`, false, false],
    [`devices/${A}/#`, false, false],
    [`devices/${A}/+`, false, false],
    ['devices/#', false, false],
    ['devices/+/+', false, false],
    ['+/+/+', false, false],
    [`+/${A}/commands`, false, false],
    ['#', false, false],
    ['$SYS/#', false, false],
    ['$SYS/+/telemetry', false, false],
    [`devices/${A}/commands/+`, false, false],
    ['devices/+/telemetry/#', false, false],
    ['devices/#/telemetry', false, false],
    ['devices/not_a_device/telemetry', false, false],
    ['', false, false],
  ];
  for (const [filter, forDevice, forApp] of rows) {
    t.equal(maySubscribe(device, filter), forDevice, `device subscribe ${JSON.stringify(filter)} → ${forDevice}`);
    t.equal(maySubscribe(app, filter), forApp, `app subscribe ${JSON.stringify(filter)} → ${forApp}`);
  }
});

t.test('delivery: a device receives only its own downstream topics; an app only device uplink topics; nobody $SYS', async (t) => {
  const rows: Row[] = [
    [`devices/${A}/commands`, true, false],
    [`devices/${A}/config`, true, false],
    [`devices/${A}/firmware`, true, false],
    [`devices/${B}/commands`, false, false],
    [`devices/${A}/telemetry`, false, true],
    [`devices/${B}/status`, false, true],
    ['$SYS/6ea3/new/clients', false, false],
    ['other/topic', false, false],
  ];
  for (const [topic, forDevice, forApp] of rows) {
    t.equal(mayReceive(device, topic), forDevice, `device receives ${topic} → ${forDevice}`);
    t.equal(mayReceive(app, topic), forApp, `app receives ${topic} → ${forApp}`);
  }
});
