// A stand-in for the service's image store: serves blobs by path on loopback, checks the bearer
// token, answers errors the way the service does ({ code, message }), and counts requests.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export const TOKEN = 'test-agent-token';

export const sha256Of = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface BlobServer {
  url(path: string): string;
  /** Serves `data` at /blobs/<name>; the name defaults to its sha256. Returns the path. */
  put(data: Uint8Array, name?: string): string;
  requests(path: string): number;
  /** Holds every response until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startBlobServer(): Promise<BlobServer> {
  const blobs = new Map<string, Uint8Array>();
  const counts = new Map<string, number>();
  let gate: Promise<void> | null = null;
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (gate) await gate;
    const reply = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code, message }));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, 'unauthorized', 'a valid bearer token is required');
    const blob = blobs.get(path);
    if (!blob) return reply(404, 'not-found', `no image blob at ${path}`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.byteLength });
    // In two writes, so the client sees more than one chunk.
    const half = Math.floor(blob.byteLength / 2);
    res.write(blob.subarray(0, half));
    res.end(blob.subarray(half));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    put(data, name = sha256Of(data)) {
      const path = `/blobs/${name}`;
      blobs.set(path, data);
      return path;
    },
    requests: (path) => counts.get(path) ?? 0,
    hold() {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = null;
        open();
      };
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
