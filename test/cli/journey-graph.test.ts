import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { journeyToMermaid } from '../../engine/cli/journey-graph.js';
import { defineJourney } from '../../engine/index.js';
import { teaWelcome } from '../fixtures/cli/journeys/tea-welcome.js';

/** The diagram's lines, parsed into what a Mermaid renderer reads from them. */
function parse(diagram: string) {
  const lines = diagram.trimEnd().split('\n');
  const states = new Map<string, string>();
  const descriptions = new Map<string, string[]>();
  const edges: Array<{ from: string; to: string; label: string }> = [];
  const classes = new Map<string, string[]>();
  for (const line of lines.slice(1).map((l) => l.trim())) {
    let m: RegExpExecArray | null;
    if ((m = /^state "([^"]+)" as (\w+)$/.exec(line))) states.set(m[2]!, m[1]!);
    else if ((m = /^(\S+) --> (\S+)(?: : (.*))?$/.exec(line)))
      edges.push({ from: m[1]!, to: m[2]!, label: m[3] ?? '' });
    else if ((m = /^class (\S+) (\w+)$/.exec(line))) classes.set(m[2]!, m[1]!.split(','));
    else if ((m = /^(\w+) : (.*)$/.exec(line)))
      descriptions.set(m[1]!, [...(descriptions.get(m[1]!) ?? []), m[2]!]);
    else if (!/^(%%|classDef )/.test(line)) throw new Error(`unexpected line: ${line}`);
  }
  return { header: lines[0], states, descriptions, edges, classes };
}

describe('journeyToMermaid', () => {
  const graph = parse(journeyToMermaid(teaWelcome));
  const edge = (from: string, to: string) =>
    graph.edges.filter((e) => e.from === from && e.to === to).map((e) => e.label);

  it('declares a stateDiagram-v2 with every state, its stage and the messages it sends', () => {
    expect(graph.header).toBe('stateDiagram-v2');
    expect([...graph.states.values()]).toEqual([
      'welcomed',
      'nudge',
      'nudged',
      'interested',
      'lapsed',
      'any state',
    ]);
    expect(graph.descriptions.get('s_welcomed')).toEqual(['awareness', 'sends welcome (email)']);
    expect(graph.descriptions.get('s_lapsed')).toEqual(['decision']);
  });

  it('groups the states by stage with one class per stage', () => {
    expect(Object.fromEntries(graph.classes)).toEqual({
      awareness: ['s_welcomed'],
      consideration: ['s_nudge', 's_nudged'],
      decision: ['s_interested', 's_lapsed'],
    });
  });

  it('labels transitions with the trigger, events, delays, guards and sends', () => {
    expect(edge('[*]', 's_welcomed')).toEqual(['enter on Signed Up']);
    expect(edge('s_welcomed', 's_interested')).toEqual(['Product Viewed']);
    expect(edge('s_welcomed', 's_nudge')).toEqual(['after 2d']);
    expect(edge('s_nudge', 's_nudged')).toEqual([
      'always [guard] / send nudge (sms)',
      'always else / send nudge (email)',
    ]);
    expect(edge('s_interested', 's_lapsed')).toEqual(['after 4h']);
    expect(edge('s_lapsed', '[*]')).toEqual(['']);
  });

  it('draws exits that apply in any state from an "any state" node', () => {
    expect(graph.states.get('any_state')).toBe('any state');
    expect(edge('any_state', '[*]')).toEqual(['exit on Account Deleted', 'goal Order Completed']);
  });

  it('connects only states it declared', () => {
    const known = new Set([...graph.states.keys(), '[*]']);
    for (const { from, to } of graph.edges) expect([from, to].filter((id) => !known.has(id))).toEqual([]);
  });

  it('writes the characters Mermaid reads itself as entity codes, and state names as safe ids', () => {
    const odd = defineJourney({
      id: 'odd',
      version: 1,
      trigger: { event: 'Signed Up' },
      events: { 'Order: #1; done': z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'first step',
          states: {
            'first step': { tags: 'awareness', on: { 'Order: #1; done': 'end' } },
            end: { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    const { states, edges } = parse(journeyToMermaid(odd));
    expect(states.get('s_first_20_step')).toBe('first step');
    expect(edges).toContainEqual({ from: 's_first_20_step', to: 's_end', label: 'Order#58; #35;1#59; done' });
  });

  it('writes the characters Mermaid reads as HTML as entity codes, so names and events show as written', () => {
    const marked = defineJourney({
      id: 'marked',
      version: 1,
      trigger: { event: 'Cart > $50 & <b>' },
      machine: (j) =>
        j.createMachine({
          initial: 'a<b>c',
          states: { 'a<b>c': { tags: 'awareness', type: 'final' } },
        }),
    });
    const { states, edges } = parse(journeyToMermaid(marked));
    expect([...states.values()]).toEqual(['a#60;b#62;c']);
    expect(edges[0]?.label).toBe('enter on Cart #62; $50 #38; #60;b#62;');
  });

  it('keeps every line of a multi-line description a comment, drawing nothing of it', () => {
    const described = defineJourney({
      id: 'described',
      version: 1,
      description: 'Welcomes new sign-ups.\nstate "Stray" as stray\r\nSends: welcome',
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({ initial: 'only', states: { only: { tags: 'awareness', type: 'final' } } }),
    });
    const diagram = journeyToMermaid(described);
    expect(diagram).toContain(
      '  %% Welcomes new sign-ups.\n  %% state "Stray" as stray\n  %% Sends: welcome\n',
    );
    const { states, descriptions } = parse(diagram);
    expect([...states.values()]).toEqual(['only']);
    expect([...descriptions.keys()]).toEqual(['s_only']);
  });

  it('gives states whose names differ only in punctuation ids of their own, and quotes a name with a quote', () => {
    const near = defineJourney({
      id: 'near',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'a_b',
          states: {
            a_b: { tags: 'awareness', always: 'a b' },
            'a b': { tags: 'awareness', always: 'a "b"' },
            'a "b"': { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    const { states, edges } = parse(journeyToMermaid(near));
    expect(new Set(states.keys()).size).toBe(states.size);
    expect([...states.values()]).toEqual(['a_b', 'a b', 'a #34;b#34;']);
    expect(edges.filter((e) => e.label === 'always').map((e) => [e.from, e.to])).toEqual([
      ['s_a__b', 's_a_20_b'],
      ['s_a_20_b', 's_a_20__22_b_22_'],
    ]);
  });
});

describe('a compound state with onDone', () => {
  it('labels the transition taken when it finishes "done", not with xstate\'s internal event', () => {
    const nested = defineJourney({
      id: 'nested',
      version: 1,
      trigger: { event: 'Go' },
      events: { Viewed: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'onboarding',
          states: {
            onboarding: {
              tags: 'awareness',
              initial: 'first',
              states: {
                first: { tags: 'awareness', on: { Viewed: 'finished' } },
                finished: { tags: 'consideration', type: 'final' },
              },
              onDone: { target: 'loyal', actions: j.send('thank-you', ['email']) },
            },
            loyal: { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    const { edges } = parse(journeyToMermaid(nested));
    expect(edges.filter((e) => e.from === 's_onboarding' && e.to === 's_loyal')).toEqual([
      { from: 's_onboarding', to: 's_loyal', label: 'done / send thank-you (email)' },
    ]);
  });
});
