// Keyword tables of the LVS blocks (placeholder until the LVS table lands).
import { defineBlock } from '../schema.js';
import type { SslConfig, VirtualServer, VirtualServerGroup } from '../model/lvs.js';
import { namedHeader } from './vrrp.js';

export const virtualServerGroupBlock = defineBlock<VirtualServerGroup>({ name: 'virtual_server_group', doc: 'Addresses and ranges that several virtual servers share.', header: namedHeader('virtual_server_group'), keywords: [] });
export const virtualServerBlock = defineBlock<VirtualServer>({ name: 'virtual_server', doc: 'A load-balanced service and its real servers.', keywords: [] });
export const sslBlock = defineBlock<SslConfig>({ name: 'SSL', doc: 'TLS context for SSL_GET checkers.', keywords: [] });
