// Who signed a request: the access key's user, if the SigV4 signature over the request is right,
// for this region and service, and made within 15 minutes of the server's clock.

import type { Ec2Caller, Ec2Options } from './context.ts';
import { Ec2Error } from './errors.ts';
import { amzDateSeconds, MOST_SKEW_SECONDS, parseAuthorization, type SignedRequest, signatureMatches } from './sigv4.ts';

/** Query parameters of the presigned form: the signature's, not the action's. */
export const PRESIGN_PARAMETERS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];

export async function authenticate(opts: Ec2Options, req: SignedRequest, queryParams: Map<string, string>): Promise<Ec2Caller> {
  const auth = parseAuthorization(req, queryParams);
  if (auth.service !== 'ec2') throw new Ec2Error('AuthFailure', `Credential should be scoped to the service ec2, not '${auth.service.slice(0, 40)}'`);
  if (auth.region !== opts.region) throw new Ec2Error('AuthFailure', `Credential should be scoped to the region '${opts.region}', not '${auth.region.slice(0, 40)}' (AWS_DEFAULT_REGION=${opts.region}, or --region ${opts.region})`);
  const credential = /^AKIA[A-Z2-7]{16}$/.test(auth.accessKeyId) ? await opts.store.ec2Credential(auth.accessKeyId) : null;
  const user = credential ? await opts.store.getUser(credential.userId) : null;
  // A disabled user's keys stop with its tokens.
  if (!credential || !user || user.disabled) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials (an access key from POST /v1/users/{name}/ec2-credentials is needed)');
  const secret = opts.secretBox.open(credential.sealedSecret, credential.accessKeyId);
  if (!signatureMatches(req, auth, secret)) {
    throw new Ec2Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  const signedAt = amzDateSeconds(auth.amzDate);
  const now = opts.now();
  const expires = auth.presigned ? Number(queryParams.get('X-Amz-Expires') ?? NaN) : NaN;
  if (auth.presigned && !(Number.isInteger(expires) && expires >= 1 && expires <= 604800)) throw new Ec2Error('AuthFailure', 'X-Amz-Expires must be a whole number of seconds from 1 to 604800');
  if (Math.abs(now - signedAt) > MOST_SKEW_SECONDS && !(auth.presigned && signedAt <= now + MOST_SKEW_SECONDS && now <= signedAt + expires)) {
    throw new Ec2Error('RequestExpired', `Request has expired: it was signed at ${new Date(signedAt * 1000).toISOString()}, and the server's clock is ${new Date(now * 1000).toISOString()} (at most ${MOST_SKEW_SECONDS / 60} minutes apart)`);
  }
  if (auth.presigned && now > signedAt + expires) throw new Ec2Error('RequestExpired', `Request has expired: the presigned URL was good for ${expires} s from ${new Date(signedAt * 1000).toISOString()}`);
  return { user, groups: await opts.store.groupsOf(user.id) };
}
