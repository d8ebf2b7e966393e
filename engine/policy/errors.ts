import { ChorusError } from '../errors.js';

/** A policy factory was given options it cannot work with; thrown at creation, never at send time. */
export class PolicyConfigError extends ChorusError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('CHORUS_POLICY_CONFIG_INVALID', `Invalid ${option}: ${message}`);
  }
}
