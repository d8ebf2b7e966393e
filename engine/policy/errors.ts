import { ChorusError } from '../errors.js';

export class DoubleOptInNotConfiguredError extends ChorusError {
  constructor() {
    super(
      'CHORUS_DOUBLE_OPT_IN_NOT_CONFIGURED',
      'Double opt-in is on, but the engine has no way to sign confirmation links. ' +
        'To fix: pass `consent.confirmLink` ({ baseUrl, secret }) or `delivery.unsubscribe` to createEngine.',
    );
  }
}

/** A policy factory was given options it cannot work with; thrown at creation, never at send time. */
export class PolicyConfigError extends ChorusError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('CHORUS_POLICY_CONFIG_INVALID', `Invalid ${option}: ${message}`);
  }
}
