// LVS blocks of keepalived.conf(5): virtual_server_group, virtual_server, real_server, checkers, SSL.
// (Filled in by the LVS keyword table work; see src/config/keywords/lvs.ts.)
import type { Named, Located } from './common.js';

export interface VirtualServerGroup extends Named {}
export interface VirtualServer extends Located {}
export interface SslConfig extends Located {}
