// What the server answers when Node's HTTP parser gives up on a connection before any route sees
// a request (headers too large, a request line that is not HTTP, headers that never finish):
// the API's one error format, written on the socket, which is then closed. Fastify's own answer
// was its framework's JSON, and Node's a bare status line.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RefusalCode } from '../control/refusal.ts';
import { REFUSAL_STATUS } from './refusal-status.ts';

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The refusal for a parser error, by Node's error code. */
export function clientErrorRefusal(code: string | undefined): { code: RefusalCode; message: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'request-timeout', message: 'the request did not arrive in time: send its headers (and body) without pausing' };
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'headers-too-large', message: 'the request\'s headers are larger than the server takes (16 KiB): send fewer or shorter headers' };
  return { code: 'invalid-request', message: 'the request is not valid HTTP/1.1 (its request line or a header could not be read)' };
}

/** Node's 'clientError' handler: answers in the API's format where the socket still takes it, then closes it. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A connection the client reset has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = clientErrorRefusal(err.code);
  const status = REFUSAL_STATUS[refusal.code];
  const body = JSON.stringify(refusal);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Node's 'checkExpectation' handler: an Expect other than 100-continue. Node's own answer is a bare
 * 417; the API says what to do instead, as invalid-request.
 */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ code: 'invalid-request' satisfies RefusalCode, message: `the server meets no Expect but 100-continue, not '${String(req.headers.expect).slice(0, 100)}': remove the header` });
  res.writeHead(REFUSAL_STATUS['invalid-request'], { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
