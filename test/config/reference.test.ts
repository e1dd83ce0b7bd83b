import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootBlock } from '../../src/config/keywords/root.js';
import { blocksOf, renderCompatibility, renderKeywordReference } from '../../src/config/reference.js';
import { renderRuleReference } from '../../src/config/rules.js';

describe('keyword table', () => {
  it('docs/keywords.md is what the table generates (regenerate: node dist/keepalived-ts.mjs keywords > docs/keywords.md)', () => {
    expect(readFileSync(join(__dirname, '../../docs/keywords.md'), 'utf8')).toBe(renderKeywordReference(rootBlock));
  });

  it('docs/compatibility.md is what the table generates (regenerate: node dist/keepalived-ts.mjs keywords --compatibility > docs/compatibility.md)', () => {
    expect(readFileSync(join(__dirname, '../../docs/compatibility.md'), 'utf8')).toBe(renderCompatibility(rootBlock));
  });

  it('docs/rules.md is what the rule table generates (regenerate: node dist/keepalived-ts.mjs rules > docs/rules.md)', () => {
    expect(readFileSync(join(__dirname, '../../docs/rules.md'), 'utf8')).toBe(renderRuleReference());
  });

  it('has a doc line for every keyword and no spelling claimed twice in one block', () => {
    for (const { block, path } of blocksOf(rootBlock)) {
      const names = block.keywords.flatMap((k) => [k.name, ...(k.aliases ?? []), ...(k.deprecated ?? [])]);
      expect(new Set(names).size, `duplicate spelling in ${path}`).toBe(names.length);
      for (const k of block.keywords) expect(k.doc.length, `${path} › ${k.name}`).toBeGreaterThan(5);
    }
  });
});
