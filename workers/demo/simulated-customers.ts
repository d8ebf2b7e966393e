// The simulated shoppers of `npm run demo`: who they are and what they do, on journey time.
// Seeded, so two runs with the same seed send the same events.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type DemoCall =
  | { type: 'identify'; userId: string; traits: Record<string, unknown>; messageId: string }
  | {
      type: 'track';
      userId: string;
      event: string;
      properties: Record<string, unknown>;
      messageId: string;
    };

/** One call to make, `at` milliseconds of journey time after the demo starts. */
export interface ScheduledCall {
  at: number;
  call: DemoCall;
}

/** A small fast PRNG (mulberry32): good enough to make shoppers differ, and reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = ['Ada', 'Mei', 'Lin', 'Sofia', 'Omar', 'Yuki', 'Priya', 'Noah', 'Elena', 'Kai'];
const TEAS = [
  { name: 'Osmanthus Oolong', price: 18 },
  { name: 'Spring Dragon Well', price: 24 },
  { name: 'Chrysanthemum & Goji', price: 16 },
  { name: 'Aged White Peony', price: 28 },
  { name: 'Rose Black Tea', price: 20 },
];

/**
 * Sign-ups spread over the first day; about two in three view a tea within three days (some after
 * the journey's two-day window, so they get the nudge first); about half of those add it to the
 * cart, and about half of those order, some within the four hours and some after the reminder.
 */
export function simulateCustomers(count: number, seed = 7): ScheduledCall[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const calls: ScheduledCall[] = [];
  for (let i = 0; i < count; i++) {
    const userId = `demo-${String(i).padStart(4, '0')}`;
    const id = (step: string) => `${userId}-${step}`;
    const traits: Record<string, unknown> = { email: `${userId}@example.com` };
    if (random() < 0.8) traits.firstName = pick(FIRST_NAMES);
    if (random() < 0.4) {
      traits.phone = `+1555${String(1_000_000 + i).slice(-7)}`;
      // Seven in ten phone owners opted in to marketing SMS; the rest get the nudge by email.
      if (random() < 0.7) traits.consent = { sms: { marketing: { granted: true, source: 'signup-form' } } };
    }
    if (random() < 0.3) traits.pushToken = `token-${userId}`;
    const start = Math.floor(random() * DAY);
    const track = (at: number, event: string, properties: Record<string, unknown>) =>
      calls.push({
        at,
        call: { type: 'track', userId, event, properties, messageId: id(event.replace(/\s/g, '-')) },
      });
    calls.push({ at: start, call: { type: 'identify', userId, traits, messageId: id('identify') } });
    track(start + 1_000, 'Signed Up', { source: pick(['instagram', 'search', 'friend', 'newsletter']) });

    const tea = pick(TEAS);
    const product = {
      product_id: tea.name.toLowerCase().replace(/\W+/g, '-'),
      name: tea.name,
      price: tea.price,
    };
    if (random() >= 0.65) continue;
    const viewed = start + Math.floor(random() * 3 * DAY);
    track(viewed, 'Product Viewed', product);
    if (random() >= 0.55) continue;
    const added = viewed + Math.floor(random() * 2 * DAY);
    track(added, 'Product Added', { ...product, quantity: 1 });
    if (random() >= 0.5) continue;
    const ordered = added + Math.floor(random() * 8 * HOUR);
    track(ordered, 'Order Completed', {
      order_id: id('order'),
      revenue: tea.price,
      currency: 'USD',
      products: [{ ...product, quantity: 1 }],
    });
  }
  return calls.sort((a, b) => a.at - b.at);
}
