// Raw HTTP/1.1 over a socket, for what inject() cannot send: bytes Node's own parser reads first
// (request lines that are not HTTP, oversized headers, conflicting lengths, requests cut short).

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { REFUSAL_STATUS } from '../../../src/api/refusal-status.ts';

export interface RawAnswer {
  /** Null when the server closed the connection without a word. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
}

/** Sends `bytes`, then ends the connection's sending side (so that nothing waits for more), and reads until the server closes. */
export function exchange(port: number, bytes: string | Buffer, end = true): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    socket.on('close', () => resolve(parse(Buffer.concat(chunks))));
    socket.write(bytes, () => (end ? socket.end() : undefined));
  });
}

/** The first answer in what the server sent (a 100 Continue before it is skipped). */
export function parse(raw: Buffer): RawAnswer {
  let text = raw.toString('latin1');
  while (text.startsWith('HTTP/1.1 100')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  if (text.length === 0) return { status: null, headers: {}, body: '' };
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`);
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  let body = text.slice(head.length + 4);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  else if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(m[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

function dechunk(text: string): string {
  let out = '';
  for (let at = 0; at < text.length;) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) break;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}

/** What every answer must be: no 5xx, and a refusal in the API's error format. */
export function assertApiAnswer(a: RawAnswer, what: string, head = false): void {
  if (a.status === null) return;
  assert.ok(a.status < 500, `${what}: ${a.status} ${a.body.slice(0, 300)}`);
  if (a.status < 400) return;
  assert.match(a.headers['content-type'] ?? '', /^application\/json/, `${what}: ${a.status} as ${a.headers['content-type']}: ${a.body.slice(0, 300)}`);
  // The answer to a HEAD has the headers of the GET's and no body.
  if (head) return;
  const body = JSON.parse(a.body) as { code: string; message: string };
  const table = REFUSAL_STATUS as Record<string, number>;
  assert.equal(table[body.code], a.status, `${what}: code ${body.code} with ${a.status}`);
  assert.ok(typeof body.message === 'string' && body.message.length > 0 && !a.body.includes('FST_'), `${what}: ${a.body.slice(0, 300)}`);
}
