// Moves a suspended VM's files (its saved memory, its disk overlay) from one node to another for
// a cold migration, agent to agent over TCP. The receiver opens a port for one sender that shows
// the ticket the service handed out; each file is followed by its sha256, and a file that does
// not match is not kept. Files land under a temporary name and are renamed once whole.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';

export interface OutgoingFile {
  name: string;
  path: string;
}

export interface TransferReport {
  bytes: number;
  ms: number;
}

interface Header {
  ticket: string;
  files: Array<{ name: string; bytes: number }>;
}

const SAFE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export const newTicket = (): string => randomBytes(24).toString('base64url');

/** Reads exactly n bytes, or less at the end of the stream; `into` receives them as they come. */
class Reader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private wake: (() => void) | null = null;

  constructor(socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.buffered += c.length;
      this.wake?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  private async more(): Promise<boolean> {
    if (this.buffered > 0) return true;
    if (this.ended) return false;
    await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return this.buffered > 0;
  }

  async line(limit = 1 << 20): Promise<string> {
    let text = '';
    while (await this.more()) {
      const head = this.chunks[0];
      const nl = head.indexOf(10);
      const take = nl >= 0 ? nl + 1 : head.length;
      text += head.subarray(0, nl >= 0 ? nl : take).toString();
      this.consume(take);
      if (nl >= 0) return text;
      if (text.length > limit) throw new Error(`the sender sent a line longer than ${limit} bytes`);
    }
    throw new Error('the sender hung up in the middle of a line');
  }

  async copy(n: number, into: (c: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.more())) throw new Error(`the sender hung up with ${left} bytes of the file still to come`);
      const head = this.chunks[0];
      const take = Math.min(left, head.length);
      into(head.subarray(0, take));
      this.consume(take);
      left -= take;
    }
  }

  private consume(n: number): void {
    const head = this.chunks[0];
    this.buffered -= n;
    if (n === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
  }
}

/**
 * Waits on address:0 for one sender with the ticket and writes its files into dir. `done`
 * settles when they are all in and verified (or when the transfer failed; nothing partial is
 * left then).
 */
export async function receiveFiles(opts: { address: string; dir: string; ticket: string; timeoutMs: number }): Promise<{ port: number; done: Promise<TransferReport>; cancel: () => void }> {
  // Half-open: the sender ends its side once everything is sent and waits for our verdict, which
  // a socket that closed along with the sender's end could no longer send.
  const server = createServer({ allowHalfOpen: true });
  let settle!: { resolve: (r: TransferReport) => void; reject: (e: Error) => void };
  const done = new Promise<TransferReport>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const timer = setTimeout(() => {
    server.close();
    settle.reject(new Error(`no sender brought the files within ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  server.on('connection', (socket) => {
    void take(socket, opts).then((report) => {
      clearTimeout(timer);
      server.close();
      socket.end('ok\n');
      settle.resolve(report);
    }, (e: Error) => {
      socket.end(`error ${e.message}\n`);
      // A wrong ticket is somebody else's mistake: keep waiting for the real sender.
      if (e.message.startsWith('wrong ticket')) return;
      clearTimeout(timer);
      server.close();
      settle.reject(e);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.address, () => resolve());
  });
  const cancel = (): void => {
    clearTimeout(timer);
    server.close();
    settle.reject(new Error('the transfer was cancelled'));
  };
  return { port: (server.address() as { port: number }).port, done, cancel };
}

async function take(socket: Socket, opts: { dir: string; ticket: string }): Promise<TransferReport> {
  const started = Date.now();
  const reader = new Reader(socket);
  const header = JSON.parse(await reader.line()) as Header;
  if (header.ticket !== opts.ticket) throw new Error('wrong ticket');
  if (!Array.isArray(header.files) || header.files.some((f) => !SAFE_NAME.test(f.name) || !Number.isSafeInteger(f.bytes) || f.bytes < 0)) {
    throw new Error('the sender announced files with bad names or sizes');
  }
  const landed: string[] = [];
  let bytes = 0;
  try {
    for (const f of header.files) {
      const partial = join(opts.dir, `.${f.name}.partial`);
      landed.push(partial);
      const out = createWriteStream(partial);
      // A write that fails (the VM's directory removed under us, a full disk) must fail this
      // transfer, not the agent: an unheard stream error would end the whole process.
      let writeError: Error | null = null;
      out.on('error', (e) => (writeError ??= e));
      const hash = createHash('sha256');
      await reader.copy(f.bytes, (c) => {
        hash.update(c);
        if (!writeError) out.write(c);
      });
      await new Promise<void>((resolve) => {
        if (out.closed) return resolve();
        out.once('close', resolve);
        out.end();
      });
      if (writeError) throw new Error(`cannot write ${f.name} here: ${(writeError as Error).message}`);
      const claimed = (await reader.line()).trim();
      const actual = hash.digest('hex');
      if (claimed !== actual) throw new Error(`${f.name} arrived with sha256 ${actual}, not the sender's ${claimed}: it was damaged on the way`);
      bytes += f.bytes;
    }
    header.files.forEach((f, i) => renameSync(landed[i], join(opts.dir, f.name)));
    return { bytes, ms: Date.now() - started };
  } catch (e) {
    for (const p of landed) rmSync(p, { force: true });
    throw e;
  }
}

/** Pushes the files to a receiver; resolves once it has verified them all. */
export async function sendFiles(to: { address: string; port: number; ticket: string }, files: OutgoingFile[]): Promise<TransferReport> {
  const started = Date.now();
  const socket = connect(to.port, to.address);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (e) => reject(new Error(`cannot reach the receiving node at ${to.address}:${to.port}: ${e.message}`)));
  });
  // Whatever the receiver said before hanging up is the answer: a refusal ends the connection while we still write.
  const reply = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text.trim()));
  });
  const put = async (data: string | Buffer): Promise<void> => {
    if (socket.destroyed || socket.write(data)) return;
    await new Promise<void>((resolve) => {
      socket.once('drain', resolve);
      socket.once('close', resolve);
    });
  };
  const header: Header = { ticket: to.ticket, files: files.map((f) => ({ name: f.name, bytes: statSync(f.path).size })) };
  await put(`${JSON.stringify(header)}\n`);
  let bytes = 0;
  for (const f of files) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(f.path)) {
      if (socket.destroyed) break;
      hash.update(chunk as Buffer);
      await put(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    await put(`${hash.digest('hex')}\n`);
  }
  socket.end();
  const answer = await reply;
  if (answer !== 'ok') throw new Error(`the receiving node refused the files: ${answer.replace(/^error /, '') || 'it hung up'}`);
  return { bytes, ms: Date.now() - started };
}
