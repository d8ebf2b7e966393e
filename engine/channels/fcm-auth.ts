import type { Clock } from '../clock.js';
import { serviceAccountTokens, type AccessTokens, type TokenAnswer } from './access-tokens.js';
import { ChannelConfigError } from './errors.js';
import { describeError } from './http-result.js';
import type { PushAdapterOptions } from './push-adapter.js';
import { signingAccount } from './service-account.js';

/** The OAuth 2 scope the FCM HTTP v1 API asks for. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** Where the adapter's tokens come from, and the project they send for. */
export function fcmAuthorization(
  options: PushAdapterOptions,
  clock: Clock,
  timeoutMs: number,
): { tokens: AccessTokens; projectId: string } {
  if (options.serviceAccount && options.accessToken !== undefined) {
    throw new ChannelConfigError(
      'accessToken',
      'The push adapter was given both a service account and an access token. To fix: give only `serviceAccount`.',
    );
  }
  if (options.serviceAccount) {
    const account = signingAccount(options.serviceAccount, 'serviceAccount');
    const projectId = options.projectId ?? account.projectId;
    if (!projectId) throw missingProject('the service account key has no project_id');
    return { tokens: serviceAccountTokens({ account, scope: FCM_SCOPE, clock, timeoutMs }), projectId };
  }
  const source = options.accessToken;
  if (!source) {
    throw new ChannelConfigError(
      'serviceAccount',
      'The push adapter has no credentials. To fix: pass `serviceAccount` (the JSON key of a service account).',
    );
  }
  if (!options.projectId) throw missingProject('no service account names one');
  return { tokens: suppliedTokens(source), projectId: options.projectId };
}

function missingProject(why: string): ChannelConfigError {
  return new ChannelConfigError(
    'projectId',
    `The push adapter does not know the Firebase project: ${why}. To fix: set \`projectId\`.`,
  );
}

/** Tokens handed in by the caller: a fixed one cannot be renewed; a function is asked again. */
function suppliedTokens(source: string | (() => Promise<string>)): AccessTokens {
  const ask = async (): Promise<TokenAnswer> => {
    try {
      return { ok: true, token: typeof source === 'string' ? source : await source() };
    } catch (error) {
      return { ok: false, reason: describeError(error) };
    }
  };
  return {
    get: ask,
    async renew(rejected) {
      if (typeof source === 'string') return undefined;
      const answer = await ask();
      return answer.ok && answer.token === rejected ? undefined : answer;
    },
  };
}
