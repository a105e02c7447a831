import { h } from './dom.js';
import { errorText } from './api.js';
import type { AppContext } from './context.js';
import type { ConnectionInfo, MqttCredentials } from './types.js';
import { copyButton, facts, notice } from './widgets.js';

/** The file name the snippets use for the CA certificate the page offers for download. */
export const CA_FILE = 'ways-edge-ca.crt';

export interface SnippetInput { host: string; port: number; deviceId: string; password: string }

/** The host the browser reached the gateway by: that name (or address) is in the server certificate. */
export function gatewayHost(): string {
  return window.location.hostname.replace(/^\[(.*)\]$/, '$1');
}

export function mosquittoSnippet(s: SnippetInput): string {
  return [
    `mosquitto_pub -h '${s.host}' -p ${s.port} --cafile ${CA_FILE} \\`,
    `  -i ${s.deviceId} -u ${s.deviceId} -P '${s.password}' \\`,
    `  -t devices/${s.deviceId}/telemetry -q 1 -m '{"temperature": 22.5}'`,
  ].join('\n');
}

export function pahoSnippet(s: SnippetInput): string {
  return `import json
import paho.mqtt.client as mqtt

MQTT_BROKER = "${s.host}"
MQTT_PORT = ${s.port}  # TLS
DEVICE_ID = "${s.deviceId}"
PASSWORD = "${s.password}"
CA_FILE = "${CA_FILE}"  # the gateway's CA, downloaded from the dashboard

def on_connect(client, userdata, flags, rc):
    print(f"Connected with result code {rc}")
    client.subscribe(f"devices/{DEVICE_ID}/commands", qos=1)

def on_message(client, userdata, msg):
    print(f"Received: {msg.topic} {msg.payload.decode()}")

try:  # paho-mqtt 2.x
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=DEVICE_ID)
except AttributeError:  # paho-mqtt 1.x
    client = mqtt.Client(client_id=DEVICE_ID)
client.username_pw_set(DEVICE_ID, PASSWORD)
client.tls_set(ca_certs=CA_FILE)
client.on_connect = on_connect
client.on_message = on_message
client.connect(MQTT_BROKER, MQTT_PORT, 60)
client.publish(f"devices/{DEVICE_ID}/telemetry", json.dumps({"temperature": 22.5}), qos=1)
client.loop_forever()
`;
}

export function mqttJsSnippet(s: SnippetInput): string {
  return `const fs = require('fs');
const mqtt = require('mqtt');

const options = {
  host: '${s.host}',
  port: ${s.port},
  protocol: 'mqtts',
  username: '${s.deviceId}',
  password: '${s.password}',
  clientId: '${s.deviceId}',
  ca: fs.readFileSync('${CA_FILE}'),
};
const client = mqtt.connect(options);
client.on('connect', () => {
  client.subscribe(\`devices/\${options.clientId}/commands\`, { qos: 1 });
  client.publish(\`devices/\${options.clientId}/telemetry\`, JSON.stringify({ temperature: 22.5 }), { qos: 1 });
});
client.on('message', (topic, message) => console.log(\`Received: \${topic} \${message.toString()}\`));
`;
}

/**
 * Credentials shown once (after registering or rotating) with copyable connection snippets filled
 * in with this gateway's host, MQTT port and CA. Returns the panel and what frees its CA blob URL.
 */
export function credentialsPanel(ctx: AppContext, deviceId: string, creds: MqttCredentials, heading: string): { el: HTMLElement; dispose: () => void } {
  let caUrl: string | undefined;
  const passwordEl = h('code', { id: 'shown-password', class: 'secret' }, creds.password);
  const snippetsEl = h('div', { class: 'snippets' }, h('p', { class: 'muted' }, 'Loading connection details…'));
  const el = h('section', { class: 'card wide credentials', 'aria-labelledby': 'credentials-title' },
    h('h2', { id: 'credentials-title', tabindex: '-1' }, heading),
    notice('warn', h('strong', null, 'The password is shown only now. '), 'Copy it (or a snippet below) before you leave this page; if it is lost, rotate the credentials.'),
    facts([
      ['Device ID', h('code', { id: 'shown-device-id' }, deviceId)],
      ['Username', h('code', null, creds.username)],
      ['Client ID', h('code', null, creds.client_id)],
      ['Password', [passwordEl, ' ', copyButton('Copy password', () => creds.password, () => passwordEl)]],
    ]),
    snippetsEl);

  ctx.connection().then((conn: ConnectionInfo) => {
    caUrl = URL.createObjectURL(new Blob([conn.ca_certificate], { type: 'application/x-pem-file' }));
    const input: SnippetInput = { host: gatewayHost(), port: conn.port, deviceId, password: creds.password };
    const blocks: Array<[string, string, string]> = [
      ['mosquitto_pub', 'snippet-mosquitto', mosquittoSnippet(input)],
      ['Python (paho-mqtt)', 'snippet-paho', pahoSnippet(input)],
      ['Node.js (mqtt.js)', 'snippet-mqttjs', mqttJsSnippet(input)],
    ];
    snippetsEl.replaceChildren(
      h('p', null, `Connect to `, h('code', null, `mqtts://${input.host}:${conn.port}`), ' with TLS, trusting the gateway\'s CA: ',
        h('a', { href: caUrl, download: CA_FILE, id: 'ca-download' }, `download ${CA_FILE}`), '.'),
      ...blocks.map(([title, id, text], i) => {
        const pre = h('pre', { id, tabindex: '0' }, h('code', null, text));
        return h('details', { class: 'snippet', open: i === 0 }, h('summary', null, title), h('div', { class: 'snippet-actions' }, copyButton(`Copy ${title} snippet`, () => text, () => pre)), pre);
      }),
    );
  }, (err: unknown) => snippetsEl.replaceChildren(notice('error', `Connection details are unavailable: ${errorText(err)}`)));

  return { el, dispose: () => { if (caUrl) URL.revokeObjectURL(caUrl); } };
}
