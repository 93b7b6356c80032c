// Server-Sent Events as the HTML standard defines the stream format: a parser fed arbitrary
// chunks, since the network splits the stream wherever it likes.

export interface SseEvent {
  /** The last id the stream set, which a reconnect sends back as Last-Event-ID. */
  id: string | null;
  type: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private type = '';
  private lastId: string | null = null;
  /** The last chunk ended in CR: a LF opening the next one belongs to it. */
  private afterCR = false;

  /** The events completed by `chunk`. */
  feed(chunk: string): SseEvent[] {
    if (this.afterCR && chunk.startsWith('\n')) {
      chunk = chunk.slice(1);
      this.afterCR = false;
    }
    if (chunk !== '') this.afterCR = chunk.endsWith('\r');
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    const event = this.data.length > 0 ? { id: this.lastId, type: this.type || 'message', data: this.data.join('\n') } : null;
    this.data = [];
    this.type = '';
    return event;
  }
}
