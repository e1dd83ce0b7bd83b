// `keepalived-ts keywords`: print the keyword reference (Markdown) from the keyword table.
import { rootBlock } from '../config/keywords/root.js';
import { renderKeywordReference } from '../config/reference.js';

export function keywordsCommand(_argv: string[]): number {
  process.stdout.write(renderKeywordReference(rootBlock));
  return 0;
}
