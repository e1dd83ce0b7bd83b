// The bounds of a scenario, checked before anything is loaded or run: a scenario is written by
// a person, so one beyond them is a mistake (a unit slip, a generated file gone wrong) or an
// attack (a YAML alias bomb), and either must fail in a moment, not hang the lab or exhaust its
// memory. docs/lab.md states them.
import type { Micros } from '../model/scenario.js';
import { sizeText } from '../../core/files.js';

export const LIMITS = {
  /** Bytes of the scenario file. */
  fileBytes: 1 << 20,
  /** Lines and flow punctuation (`[ ] { } ,`) of the file, counted before parsing: the YAML
   * parser's time grows with them (about 10 µs each), not with the bytes. */
  yamlTokens: 50_000,
  /** The `yaml` package's maxAliasCount (its default): alias uses, weighted by what each brings along. */
  aliases: 100,
  /** Values in the tree once aliases are expanded. */
  yamlNodes: 100_000,
  /** Virtual time of a run. */
  duration: 3600e6 as Micros,
  /** Requests a second of one client, and of all clients together. */
  rate: 10_000,
  nodes: 16,
  /** Processes of one kind a `process` fault runs (netns starts each one). */
  processes: 64,
  /** Entries of each of the other lists and maps. */
  entries: 1000,
} as const;

export const TOO_LARGE = `the scenario file is larger than ${sizeText(LIMITS.fileBytes)}, the most a scenario may be`;

export const COUNTED: { key: string; what: string; max: number }[] = [
  { key: 'nodes', what: 'nodes', max: LIMITS.nodes },
  { key: 'segments', what: 'segments', max: LIMITS.entries },
  { key: 'real-servers', what: 'real servers', max: LIMITS.entries },
  { key: 'clients', what: 'clients', max: LIMITS.entries },
  { key: 'timeline', what: 'timeline entries', max: LIMITS.entries },
  { key: 'expect', what: 'expectations', max: LIMITS.entries },
];
