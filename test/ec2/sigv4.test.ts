// The SigV4 verifier against AWS's published examples (the signature-v4 test suite and the IAM
// ListUsers example of AWS's documentation), and against the SDK's own signer, header and
// presigned forms: the same request verifies, any change to it does not.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalRequest, expectedSignature, parseAuthorization, type SignedRequest, signatureMatches } from '../../src/ec2/sigv4.ts';
import { parseQuery } from '../../src/ec2/query.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const vector = (req: SignedRequest, scope: { date: string; region: string; service: string; amzDate: string; signedHeaders: string[] }) =>
  expectedSignature(req, { accessKeyId: 'AKIDEXAMPLE', signature: '', presigned: false, ...scope }, SECRET);

test('AWS test suite get-vanilla-query-order-value (2011): repeated names sorted by value, a Date header', () => {
  const req: SignedRequest = { method: 'GET', path: '/', query: 'foo=aha&foo=Zoo', headers: { date: 'Mon, 09 Sep 2011 23:36:00 GMT', host: 'host.foo.com' }, body: Buffer.alloc(0) };
  assert.equal(canonicalRequest(req, ['date', 'host'], false), `GET\n/\nfoo=Zoo&foo=aha\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\n${EMPTY_SHA}`);
  assert.equal(vector(req, { date: '20110909', region: 'us-east-1', service: 'host', amzDate: '20110909T233600Z', signedHeaders: ['date', 'host'] }),
    'be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09');
});

test('AWS documentation\'s IAM ListUsers example (2015)', () => {
  const req: SignedRequest = {
    method: 'GET', path: '/', query: 'Action=ListUsers&Version=2010-05-08',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: 'iam.amazonaws.com', 'x-amz-date': '20150830T123600Z' }, body: Buffer.alloc(0),
  };
  assert.equal(vector(req, { date: '20150830', region: 'us-east-1', service: 'iam', amzDate: '20150830T123600Z', signedHeaders: ['content-type', 'host', 'x-amz-date'] }),
    '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
});

test('AWS test suite get-vanilla (2015)', () => {
  const req: SignedRequest = { method: 'GET', path: '/', query: '', headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' }, body: Buffer.alloc(0) };
  assert.equal(vector(req, { date: '20150830', region: 'us-east-1', service: 'service', amzDate: '20150830T123600Z', signedHeaders: ['host', 'x-amz-date'] }),
    '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

class Sha256 {
  private readonly h;
  constructor(secret?: unknown) {
    this.h = secret ? createHmac('sha256', secret as string) : createHash('sha256');
  }
  update(d: unknown): void {
    this.h.update(d as string);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

const signer = new SignatureV4({ credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET }, region: 'vws', service: 'ec2', sha256: Sha256 as never });

test('what the SDK signs verifies, in the header and the presigned form; a changed body, path or secret does not', async () => {
  const body = 'Action=RunInstances&ImageId=ami-0123456789abcdef0&MaxCount=1&MinCount=1&UserData=IyEvYmluL3NoCg%3D%3D&Version=2016-11-15';
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8081, path: '/ec2/', query: {}, headers: { host: '127.0.0.1:8081', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const req: SignedRequest = { method: 'POST', path: '/ec2/', query: '', headers, body: Buffer.from(body) };
  const auth = parseAuthorization(req, new Map());
  assert.equal(signatureMatches(req, auth, SECRET), true);
  assert.equal(signatureMatches({ ...req, body: Buffer.from(body.replace('MaxCount=1', 'MaxCount=9')) }, auth, SECRET), false);
  assert.equal(signatureMatches({ ...req, path: '/ec2' }, auth, SECRET), false);
  assert.equal(signatureMatches(req, auth, `${SECRET}x`), false);

  const presigned = await signer.presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8081, path: '/ec2', query: { Action: 'DescribeRegions', Version: '2016-11-15', 'RegionName.1': 'a b/c' }, headers: { host: '127.0.0.1:8081' } }, { expiresIn: 300 });
  const query = Object.entries(presigned.query!).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v as string)}`).join('&');
  const params = parseQuery(query);
  const get: SignedRequest = { method: 'GET', path: '/ec2', query, headers: { host: '127.0.0.1:8081' }, body: Buffer.alloc(0) };
  const pauth = parseAuthorization(get, params);
  assert.equal(pauth.presigned, true);
  assert.equal(signatureMatches(get, pauth, SECRET), true);
  assert.equal(signatureMatches({ ...get, query: query.replace('DescribeRegions', 'DescribeImages') }, pauth, SECRET), false);
});
