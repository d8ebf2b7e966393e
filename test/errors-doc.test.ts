import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Paths are relative to the repo root, where vitest runs.
const ENGINE_DIR = 'engine';
const DOC_FILE = join('docs', 'errors.md');
// A table row whose first cell is a code, with or without backticks.
const TABLE_ROW = /^\|\s*`?(CHORUS_[A-Z_]+)`?\s*\|/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every error code the engine's source passes around as a string literal. */
function codesInEngine(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(ENGINE_DIR)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/'(CHORUS_[A-Z_]+)'/g)) {
      codes.add(match[1]!);
    }
  }
  return codes;
}

/** The codes in the first column of the table in docs/errors.md, in table order. */
function codesInDocRows(): string[] {
  return readFileSync(DOC_FILE, 'utf8')
    .split('\n')
    .flatMap((line) => TABLE_ROW.exec(line)?.[1] ?? []);
}

function codesInDocs(): Set<string> {
  return new Set(codesInDocRows());
}

function sorted(codes: Iterable<string>): string[] {
  return [...codes].sort();
}

describe('docs/errors.md', () => {
  it('finds error codes in both the engine and the docs', () => {
    expect(codesInEngine().size).toBeGreaterThan(0);
    expect(codesInDocs().size).toBeGreaterThan(0);
  });

  it('documents every error code the engine has, and no other', () => {
    const engine = codesInEngine();
    const docs = codesInDocs();
    const missing = sorted([...engine].filter((code) => !docs.has(code)));
    const extra = sorted([...docs].filter((code) => !engine.has(code)));
    expect(
      { missing, extra },
      `docs/errors.md is out of step with engine/. ` +
        `Missing from the table (add a row): ${missing.join(', ') || 'none'}. ` +
        `In the table but not in engine/ (remove the row): ${extra.join(', ') || 'none'}.`,
    ).toEqual({ missing: [], extra: [] });
  });

  it('lists the codes sorted, one row each', () => {
    const rows = codesInDocRows();
    expect(rows).toEqual(sorted(new Set(rows)));
  });
});
