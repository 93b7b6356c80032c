// AWS Signature Version 4, as the EC2 Query API takes it: the Authorization header form and the
// presigned query form (X-Amz-Signature in the URL). The canonical request is rebuilt from what
// arrived, the secret is the one kept for the access key, and the payload's sha256 is always
// computed from the body received, so the signature covers the body.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Ec2Error } from './errors.ts';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far X-Amz-Date may be from the server's clock, as AWS allows. */
export const MOST_SKEW_SECONDS = 15 * 60;

export interface SignedRequest {
  method: string;
  /** The path as sent, percent-encoding included, without the query. */
  path: string;
  /** The query string as sent (after '?'), or ''. */
  query: string;
  /** Header names in lower case; repeated headers as arrays. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What the signature names: who, when, where, and what it signed. */
export interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date: YYYYMMDDTHHMMSSZ. */
  amzDate: string;
  presigned: boolean;
}

/** RFC 3986 unreserved characters stay; everything else is %XX of its UTF-8 bytes, upper case. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const decodeOr = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Ec2Error('InvalidHttpRequest', 'The request\'s path or query is not valid percent-encoding');
  }
};

/** The canonical path: each segment normalised, then encoded twice (every service but S3). */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/').slice(1)) {
    if (s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const encoded = segments.map((s) => uriEncode(uriEncode(decodeOr(s))));
  return `/${encoded.join('/')}`;
}

/** The canonical query: pairs encoded, sorted by name then value; the signature itself left out. */
export function canonicalQuery(query: string, leaveOut?: string): string {
  if (query === '') return '';
  const pairs = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    return [uriEncode(decodeOr(k.replace(/\+/g, '%20'))), uriEncode(decodeOr(v.replace(/\+/g, '%20')))] as const;
  }).filter(([k]) => k !== leaveOut);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

export function canonicalRequest(req: SignedRequest, signedHeaders: string[], presigned: boolean): string {
  const headerLines = signedHeaders.map((name) => {
    const v = req.headers[name];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    return `${name}:${values.map((x) => x.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  });
  return [
    req.method,
    canonicalPath(req.path),
    canonicalQuery(req.query, presigned ? 'X-Amz-Signature' : undefined),
    headerLines.join(''),
    signedHeaders.join(';'),
    sha256Hex(req.body),
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The signature the request should carry, hex. */
export function expectedSignature(req: SignedRequest, auth: Authorization, secret: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const sts = stringToSign(auth.amzDate, scope, canonicalRequest(req, auth.signedHeaders, auth.presigned));
  return hmac(signingKey(secret, auth.date, auth.region, auth.service), sts).toString('hex');
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Reads the signature's parts from the Authorization header or the presigned query; AuthFailure when there is none or it is malformed. */
export function parseAuthorization(req: SignedRequest, queryParams: Map<string, string>): Authorization {
  const header = single(req.headers.authorization);
  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string | undefined;
  let presigned = false;
  if (header !== undefined) {
    const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]{64})$/.exec(header.trim());
    if (!m) throw new Ec2Error('AuthFailure', 'The Authorization header is not AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/ec2/aws4_request, SignedHeaders=..., Signature=... (sign requests with Signature Version 4)');
    [, credential, signedHeaders, signature] = m;
    amzDate = single(req.headers['x-amz-date']);
  } else if (queryParams.has('X-Amz-Signature')) {
    presigned = true;
    if (queryParams.get('X-Amz-Algorithm') !== ALGORITHM) throw new Ec2Error('AuthFailure', `X-Amz-Algorithm must be ${ALGORITHM}`);
    credential = queryParams.get('X-Amz-Credential') ?? '';
    signedHeaders = queryParams.get('X-Amz-SignedHeaders') ?? '';
    signature = queryParams.get('X-Amz-Signature') ?? '';
    amzDate = queryParams.get('X-Amz-Date');
    if (!/^[0-9a-f]{64}$/.test(signature)) throw new Ec2Error('AuthFailure', 'X-Amz-Signature must be 64 hex digits');
  } else {
    throw new Ec2Error('AuthFailure', 'The request is not signed: sign it with Signature Version 4 using an access key from POST /v1/users/{name}/ec2-credentials');
  }
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1])) {
    throw new Ec2Error('AuthFailure', `The credential '${credential.slice(0, 120)}' is not KEY/YYYYMMDD/REGION/SERVICE/aws4_request`);
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new Ec2Error('AuthFailure', 'SignedHeaders must include host');
  if (names.some((n, i) => n !== n.toLowerCase() || (i > 0 && names[i - 1] >= n))) throw new Ec2Error('AuthFailure', 'SignedHeaders must be lower case and sorted, each once');
  if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) throw new Ec2Error('AuthFailure', 'X-Amz-Date (YYYYMMDDTHHMMSSZ) must be sent, as a header or in the presigned query');
  if (amzDate.slice(0, 8) !== parts[1]) throw new Ec2Error('SignatureDoesNotMatch', `The credential's date ${parts[1]} is not X-Amz-Date's ${amzDate.slice(0, 8)}`);
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3], signedHeaders: names, signature, amzDate, presigned };
}

/** Seconds since the epoch of X-Amz-Date. */
export function amzDateSeconds(amzDate: string): number {
  const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Ec2Error('AuthFailure', `X-Amz-Date ${amzDate} is not a date`);
  return Math.floor(ms / 1000);
}

/** Whether the signature matches, in constant time. */
export function signatureMatches(req: SignedRequest, auth: Authorization, secret: string): boolean {
  const want = Buffer.from(expectedSignature(req, auth, secret), 'hex');
  const got = Buffer.from(auth.signature, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
