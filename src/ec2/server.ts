// The EC2 Query API at /ec2 on its own port (`vws serve --ec2-listen`): form-encoded POST or GET,
// signed with SigV4, answered in EC2's XML. Node's own HTTP server, not the REST API's Fastify:
// SigV4 needs the request exactly as it arrived (path, query, headers, body bytes).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { StoreUnavailable } from '../store/store-failure.ts';
import { ACTIONS } from './actions/index.ts';
import { authenticate, PRESIGN_PARAMETERS } from './authenticate.ts';
import type { Ec2Options } from './context.ts';
import { Ec2Error } from './errors.ts';
import { Params, parseQuery } from './query.ts';
import type { SignedRequest } from './sigv4.ts';
import { actionResponse, errorResponse } from './xml.ts';

export const API_VERSION = '2016-11-15';
/** The largest body taken: 16 KiB of user data is under 22 KiB of base64, plus the rest. */
export const MOST_BODY_BYTES = 256 * 1024;
const PATHS = new Set(['/ec2', '/ec2/']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MOST_BODY_BYTES) return reject(new Ec2Error('RequestEntityTooLarge', `The body is ${declared} bytes; at most ${MOST_BODY_BYTES} are taken`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MOST_BODY_BYTES) {
        req.removeAllListeners('data');
        reject(new Ec2Error('RequestEntityTooLarge', `The body is over ${MOST_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

async function answer(opts: Ec2Options, req: IncomingMessage, requestId: string): Promise<string> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (!PATHS.has(path)) throw new Ec2Error('InvalidHttpRequest', `The EC2 API is at /ec2 on this port (--endpoint-url http://HOST:PORT/ec2), not ${path.slice(0, 100)}`);
  if (req.method !== 'GET' && req.method !== 'POST') throw new Ec2Error('InvalidHttpRequest', `The EC2 Query API takes GET and POST, not ${req.method}`);
  const body = await readBody(req);
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (req.method === 'POST' && body.length > 0 && type !== 'application/x-www-form-urlencoded') {
    throw new Ec2Error('InvalidHttpRequest', `Send the parameters as application/x-www-form-urlencoded, not '${type.slice(0, 60)}'`);
  }
  const queryParams = parseQuery(query);
  const all = new Map(queryParams);
  if (req.method === 'POST') {
    for (const [k, v] of parseQuery(body.toString('utf8'))) {
      if (all.has(k)) throw new Ec2Error('InvalidParameterValue', `The parameter ${k.slice(0, 100)} is given twice (in the URL and the body): give it once`);
      all.set(k, v);
    }
  }
  const signed: SignedRequest = { method: req.method, path, query, headers: req.headers, body };
  const caller = await authenticate(opts, signed, queryParams);
  for (const name of PRESIGN_PARAMETERS) all.delete(name);
  const params = new Params(all);
  const name = params.action;
  if (name === undefined || name === '') throw new Ec2Error('MissingParameter', 'The request must contain the parameter Action');
  const action = ACTIONS.get(name);
  if (!action) throw new Ec2Error('InvalidAction', `The action ${name.slice(0, 100)} is not valid for this web service (vws answers ${[...ACTIONS.keys()].join(', ')})`);
  const version = params.optional('Version');
  if (version !== undefined && version !== API_VERSION) throw new Ec2Error('InvalidParameterValue', `vws answers the EC2 API version ${API_VERSION}, not ${version.slice(0, 40)}`);
  const dryRun = params.boolean('DryRun');
  const run = action(params);
  params.checkAllRead();
  if (dryRun) throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
  return actionResponse(name, requestId, await run(opts, caller));
}

export function handleEc2(opts: Ec2Options): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = randomUUID();
    answer(opts, req, requestId).then((xml) => send(res, 200, xml), (e: unknown) => {
      if (e instanceof Ec2Error) return send(res, e.status, errorResponse(e.code, e.message, requestId));
      // A failing store is the service's trouble, not the caller's: EC2's 503, and nothing more said.
      const unavailable = e instanceof StoreUnavailable;
      process.stderr.write(`ec2 request ${requestId} failed: ${(e as Error)?.stack ?? String(e)}\n`);
      send(res, unavailable ? 503 : 500, errorResponse(unavailable ? 'ServiceUnavailable' : 'InternalError', `The server failed; its log has the cause under request ${requestId}`, requestId));
    });
  };
}

/** The front-end's HTTP server, not yet listening. */
export function buildEc2Server(opts: Ec2Options): Server {
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000 }, handleEc2(opts));
  return server;
}
