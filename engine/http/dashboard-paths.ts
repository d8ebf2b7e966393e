/** Where the Bull dashboard is served, behind the dashboard's basic auth. */
export const DASHBOARD_PATH = '/admin/queues';

/** Where the journey pages are served, under the same auth. */
export const JOURNEY_PAGES_PATH = '/admin/journeys';

/**
 * The path a reverse proxy serves the app under, from PUBLIC_URL: `/chorus` for
 * `https://example.com/chorus/`, empty at the root. The proxy takes it off before forwarding.
 */
export function publicPathPrefix(publicUrl: string): string {
  return new URL(publicUrl).pathname.replace(/\/+$/, '');
}
