/**
 * The cloud side of bench/uplink-drain.ts, in its own process so that its CPU is not the gateway's:
 * an aedes broker on a loopback port that decodes the gateway's batches (as a cloud consumer would),
 * counts messages and the bytes that arrived on the wire, and reports to the parent over IPC.
 */
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Aedes } from 'aedes';

interface Report { type: 'listening'; port: number }
type Progress = { type: 'progress'; messages: number; publishes: number; bytes: number } | { type: 'connected' };

function send(msg: Report | Progress): void { process.send?.(msg); }

const aedes = await Aedes.createBroker();
let messages = 0;
let publishes = 0;
const sockets = new Set<net.Socket>();
const wireBytes = (): number => [...sockets].reduce((a, s) => a + s.bytesRead, closedBytes);
let closedBytes = 0;

aedes.on('client', () => send({ type: 'connected' }));
aedes.on('publish', (packet, client) => {
  if (!client || packet.topic.endsWith('/status')) return;
  publishes += 1;
  const body = Buffer.from(packet.payload);
  if (packet.topic === `devices/${client.id}/telemetry` && (body[0] === 0x1f || body[0] === 0x7b)) {
    const doc = JSON.parse((body[0] === 0x1f ? gunzipSync(body) : body).toString()) as { messages: unknown[] };
    messages += doc.messages.length;
  } else {
    messages += 1; // mirror mode: one message per publish
  }
  send({ type: 'progress', messages, publishes, bytes: wireBytes() });
});

const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => { closedBytes += socket.bytesRead; sockets.delete(socket); });
  aedes.handle(socket);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => send({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
