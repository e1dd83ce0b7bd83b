// `keepalived-ts keywords`: print the keyword reference (Markdown) from the keyword table;
// `--compatibility`: the summary of what keepalived-ts implements (docs/compatibility.md).
import { rootBlock } from '../config/keywords/root.js';
import { renderCompatibility, renderKeywordReference } from '../config/reference.js';

/** main.ts has already refused any argument but --compatibility. */
export function keywordsCommand(argv: string[]): number {
  process.stdout.write(argv.includes('--compatibility') ? renderCompatibility(rootBlock) : renderKeywordReference(rootBlock));
  return 0;
}
