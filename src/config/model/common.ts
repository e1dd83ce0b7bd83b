// Types shared by the VRRP and LVS halves of the model.
import type { Span } from '../diagnostics.js';
import type { Located } from '../schema.js';

export type { Located } from '../schema.js';
export type { ScriptRef, IpPrefix } from '../values.js';

/** An entry of a list block (one line of virtual_ipaddress, track_script...). */
export interface Item {
  span: Span;
}

/** `NAME [weight W [reverse|noreverse]]` lines of track_script, track_file, track_process... */
export interface TrackRef extends Item {
  name: string;
  /** Overrides the tracked object's own weight when given. */
  weight?: number;
  reverse: boolean;
}

/** A named top-level block (vrrp_script NAME, vrrp_instance NAME...). */
export interface Named extends Located {
  name: string;
}
