import dgram from 'node:dgram';

/**
 * A minimal mDNS querier for tests, written against RFC 1035/6762 rather than with the responder's own
 * coder, so that a test checks what goes over the wire. Sends one question from an ephemeral port
 * (a "legacy unicast" query: the responder answers straight back to that port) and decodes the answer.
 */

export const TYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;

export interface DnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** PTR: the target name; SRV: {port, target}; TXT: key=value strings; A/AAAA: the address. */
  data: string | string[] | { port: number; target: string } | Buffer;
}

export function encodeQuery(name: string, type: number, id = 0x4242): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // one question
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, encodeName(name), tail]);
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((label) => Buffer.concat([Buffer.from([Buffer.byteLength(label)]), Buffer.from(label)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** Reads a possibly compressed name at `offset`; returns it and the offset after it. */
function readName(buf: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf.readUInt8(pos);
    if (len === 0) { pos += 1; break; }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = pos + 2;
      pos = buf.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('utf8', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return [labels.join('.'), end >= 0 ? end : pos];
}

/** Every record of a response (answers, authority and additionals together). */
export function decodeRecords(buf: Buffer): DnsRecord[] {
  const questions = buf.readUInt16BE(4);
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < questions; i++) pos = readName(buf, pos)[1] + 4;
  const out: DnsRecord[] = [];
  for (let i = 0; i < records; i++) {
    const [name, after] = readName(buf, pos);
    const type = buf.readUInt16BE(after);
    const ttl = buf.readUInt32BE(after + 4);
    const rdlength = buf.readUInt16BE(after + 8);
    const rdata = after + 10;
    let data: DnsRecord['data'] = buf.subarray(rdata, rdata + rdlength);
    if (type === TYPE.PTR) data = readName(buf, rdata)[0];
    else if (type === TYPE.SRV) data = { port: buf.readUInt16BE(rdata + 4), target: readName(buf, rdata + 6)[0] };
    else if (type === TYPE.A) data = [...buf.subarray(rdata, rdata + 4)].join('.');
    else if (type === TYPE.TXT) {
      const strings: string[] = [];
      for (let p = rdata; p < rdata + rdlength;) { const len = buf.readUInt8(p); strings.push(buf.toString('utf8', p + 1, p + 1 + len)); p += 1 + len; }
      data = strings;
    }
    out.push({ name, type, ttl, data });
    pos = rdata + rdlength;
  }
  return out;
}

/**
 * Asks `address` (the mDNS group 224.0.0.251 through the loopback interface, or 127.0.0.1 directly)
 * one question and resolves with the records of the first answer, or undefined after `timeoutMs`.
 */
export async function mdnsQuery(name: string, type: number, opts: { address?: string; timeoutMs?: number } = {}): Promise<DnsRecord[] | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setMulticastInterface('127.0.0.1');
    const answer = new Promise<DnsRecord[] | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), opts.timeoutMs ?? 2000);
      socket.on('message', (msg) => {
        // Responses only (QR bit), and only those that answer something.
        if ((msg.readUInt8(2) & 0x80) === 0 || msg.readUInt16BE(6) === 0) return;
        clearTimeout(timer);
        resolve(decodeRecords(msg));
      });
    });
    socket.send(encodeQuery(name, type), 5353, opts.address ?? '224.0.0.251');
    return await answer;
  } finally {
    await new Promise<void>((resolve) => socket.close(resolve));
  }
}
