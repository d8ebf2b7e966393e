import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the README', () => {
  const readme = readFileSync('README.md', 'utf8');
  const examples = [...readme.matchAll(/<!-- example: (\S+) -->\n\n?```ts\n([\s\S]*?)\n```/g)];

  it('shows the example files', () => {
    expect(examples.map((m) => m[1])).toEqual([
      'docs/examples/welcome-journey.ts',
      'docs/examples/welcome-journey.test.ts',
      'journeys/shop-webhooks.ts',
      'docs/examples/send-events.ts',
      'docs/examples/in-app-token.ts',
      'docs/examples/morning-journey.ts',
    ]);
  });

  it.each(examples.map((m) => [m[1]!, m[2]!]))(
    'shows %s exactly as it is compiled and tested',
    (file, shown) => {
      expect(shown).toBe(readFileSync(file, 'utf8').trimEnd());
    },
  );

  it('runs the example test from journeys/, where it is moved to run the example', async () => {
    const { default: config } = await import('../vitest.config.js');
    const include = config.test?.include ?? [];
    expect(readme).toContain('journeys/welcome-journey.test.ts');
    expect(include).toContain('journeys/**/*.test.ts');
  });

  it('gives a newcomer the two quick-start commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('the README configuration table', () => {
  it('names every environment variable the engine reads', async () => {
    const { EnvConfig } = await import('../engine/index.js');
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Scaling out'));
    const missing = Object.keys(EnvConfig.shape).filter((name) => !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
