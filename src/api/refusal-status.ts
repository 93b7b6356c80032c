// The one table from a refusal's code to the HTTP status it is answered with. Every error answer
// of the API goes through it (api/errors.ts); its keys are the enum of the Error schema's code in
// the OpenAPI document, and a test holds the table, the RefusalCode union and that enum together.

import type { RefusalCode } from '../control/refusal.ts';

export const REFUSAL_STATUS = {
  /** Malformed or contradictory input: a missing field, an unknown one, a hold of a kind that cannot be held. */
  'invalid-request': 400,
  /** No token, or one that is unknown, expired or revoked. */
  unauthorized: 401,
  /** Known caller, not allowed: admin-only routes, changing a lease or image it sees but does not own, making an image public, a group it is not in. */
  forbidden: 403,
  /** No such lease, node, user, group, token, image or route, or not the caller's to see (an image it may not see is answered so). */
  'not-found': 404,
  /** The name or id is taken (a user, group, image, node or lease id), or was retired. */
  'already-exists': 409,
  /** The lease, node or image is not in a state for it: stop or suspend what is not running, resume what was not suspended, commit what is not held, cancel what ended, remove an undrained node, lease an image whose content is not uploaded. */
  'wrong-state': 409,
  /** The node still holds leases. */
  'node-busy': 409,
  /** A node named as a target takes no new work (draining or unavailable). */
  'node-unavailable': 409,
  /** The scheduler has no room for the request when asked (it may later: see earliestStart and alternatives). */
  'insufficient-capacity': 409,
  /** The requested start has passed, or is too close to prepare for. */
  'too-late': 409,
  /** The rules forbid it for this kind of lease: an owner suspending a reservation, migrating one. */
  policy: 409,
  /** The lease would take its group's account past its allocation for the period (the site's terms): see alternative. */
  'insufficient-allocation': 409,
  /** The lease would take its owner's or group's live leases past a quota on cores or memory held at once (the site's terms). */
  'over-quota': 409,
  /** The body is larger than the server takes. */
  'too-large': 413,
  /** The body's content type is not the one the route takes. */
  'unsupported-media-type': 415,
  /** The request's headers are larger than the server reads (Node's parser gave up on them). */
  'headers-too-large': 431,
  /** The request's headers did not arrive in time. */
  'request-timeout': 408,
  /** The scheduler finds the request impossible as stated (a deadline before it could end, a bad recurrence). */
  invalid: 422,
  /** The request needs more than the whole pool has (for a cluster: a role too large for any node, or more of its VMs than nodes that hold one). */
  'exceeds-pool': 422,
  /** The request names an image that is not registered, or that the caller may not see. */
  'unknown-image': 422,
  /** A VM of the lease (or of one of its roles) has less cpu or memory than its image's description says it needs. */
  'below-image-minimum': 422,
  /** The back-end (the service's driver) cannot do it: suspend or live-migrate where its VMs cannot be. */
  unsupported: 422,
  /** The request names a node that is not in the pool. */
  'unknown-node': 422,
  /** Uploaded content does not match the registered sha256. */
  'checksum-mismatch': 422,
  /** Uploaded content is not an image the server keeps: not qcow2 or raw, not the format its description says, or it names other files (a backing file). */
  'invalid-image-content': 422,
  /** An Idempotency-Key sent again with a request other than the one it first came with. */
  'idempotency-key-reused': 422,
  /**
   * The site's trust policy does not let this caller run the image (unsigned, an unknown signer, a
   * claim missing, expired or from a signer not trusted for it): the caller is known and the
   * request well formed, but the site's rules refuse it until the image's provider or an
   * administrator acts, as with forbidden; the same request from an administrator may pass.
   */
  'untrusted-image': 403,
  /** A statement attached to an image does not verify: its signature is over other bytes, or it is about other content. */
  'invalid-statement': 422,
  /** A bug: the server failed. */
  internal: 500,
  /** The store failed, or the service stopped after it did and must be restarted; nothing half-made was kept. */
  'store-unavailable': 503,
  /** A follower has no leader to forward to (a takeover is under way): nothing was done; retry after Retry-After. */
  'no-leader': 503,
  /** The leader went away while answering a forwarded request: it may or may not have been carried out; retry with the same Idempotency-Key. */
  'leader-lost': 502,
} as const satisfies Record<RefusalCode, number>;

export const statusOfCode = (code: RefusalCode): number => REFUSAL_STATUS[code];
