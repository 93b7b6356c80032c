// EC2's error codes and the HTTP status EC2 answers each with. A refusal is thrown as an
// Ec2Error from anywhere in an action and answered in EC2's XML format by the server.

export type Ec2ErrorCode =
  | 'InvalidAction' | 'MissingParameter' | 'InvalidParameterValue' | 'InvalidParameterCombination' | 'UnknownParameter'
  | 'InvalidInstanceID.Malformed' | 'InvalidInstanceID.NotFound' | 'InvalidAMIID.NotFound' | 'InvalidAMIID.Malformed'
  | 'InvalidKeyPair.NotFound' | 'InvalidKeyPair.Duplicate' | 'InvalidKeyPair.Format' | 'IncorrectInstanceState'
  | 'AuthFailure' | 'SignatureDoesNotMatch' | 'RequestExpired' | 'InsufficientInstanceCapacity' | 'IdempotentParameterMismatch'
  | 'InvalidHttpRequest' | 'RequestEntityTooLarge' | 'InternalError' | 'ServiceUnavailable' | 'DryRunOperation' | 'UnauthorizedOperation'
  | 'VcpuLimitExceeded';

const STATUS: Record<Ec2ErrorCode, number> = {
  InvalidAction: 400,
  MissingParameter: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  UnknownParameter: 400,
  'InvalidInstanceID.Malformed': 400,
  'InvalidInstanceID.NotFound': 400,
  'InvalidAMIID.NotFound': 400,
  'InvalidAMIID.Malformed': 400,
  'InvalidKeyPair.NotFound': 400,
  'InvalidKeyPair.Duplicate': 400,
  'InvalidKeyPair.Format': 400,
  IncorrectInstanceState: 400,
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  InsufficientInstanceCapacity: 503,
  IdempotentParameterMismatch: 400,
  InvalidHttpRequest: 400,
  RequestEntityTooLarge: 413,
  InternalError: 500,
  ServiceUnavailable: 503,
  DryRunOperation: 412,
  /** EC2's answer to what the caller may not do; here, an image the site's trust policy does not let it run (docs/trust.md). */
  UnauthorizedOperation: 403,
  /** A launch past the caller's vCPU limit; here, a quota of the site's terms (docs/terms.md). */
  VcpuLimitExceeded: 400,
};

export class Ec2Error extends Error {
  constructor(readonly code: Ec2ErrorCode, message: string) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export const missing = (name: string, what: string): Ec2Error => new Ec2Error('MissingParameter', `The request must contain the parameter ${name} (${what})`);
export const invalidValue = (name: string, value: string, why: string): Ec2Error =>
  new Ec2Error('InvalidParameterValue', `Value (${value.slice(0, 100)}) for parameter ${name} is invalid. ${why}`);
