/**
 * A server-sent events parser (HTML Living Standard, "Parsing an event stream") for text that
 * arrives in arbitrary chunks. The page reads the stream with fetch() because EventSource cannot
 * send an Authorization header, and the key must not go into a URL.
 */
export interface SseEvent { event: string; data: string; id: string }

export class SseParser {
  private buffer = '';
  /** A chunk ended in CR: a LF at the start of the next one belongs to the same line break. */
  private skipLf = false;
  private data: string[] = [];
  private event = '';
  private lastId = '';
  /** The server's `retry:` value, in ms. */
  retryMs: number | undefined;

  /** Feeds decoded text; returns the events completed by it. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < this.buffer.length) { if (this.buffer.charCodeAt(i + 1) === 10) i += 1; } else this.skipLf = true;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data': this.data.push(value); break;
      case 'event': this.event = value; break;
      case 'id': if (!value.includes('\0')) this.lastId = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retryMs = Number(value); break;
      default: break;
    }
  }
}
