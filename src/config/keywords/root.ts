// The top of the keyword tree: every block keepalived.conf(5) allows at the outermost level.
import { defaultsOf } from '../builder.js';
import { defineBlock, keywords } from '../schema.js';
import { flag, int, word } from '../values.js';
import type { GlobalDefs, WrittenConfig } from '../model/index.js';
import { garpGroupBlock, globalDefsBlock, interfaceDelaysBlock, linkbeatBlock } from './global.js';
import { skippedByKeepalived, sslBlock, virtualServerBlock, virtualServerGroupBlock } from './lvs.js';
import {
  bfdInstanceBlock,
  staticAddressBlock,
  staticRoutesBlock,
  staticRulesBlock,
  syncGroupBlock,
  trackFileBlock,
  trackGroupBlock,
  trackProcessBlock,
  vrrpInstanceBlock,
  vrrpScriptBlock,
} from './vrrp.js';

const r = keywords<WrittenConfig>();

export const rootBlock = defineBlock<WrittenConfig>({
  name: 'the top level',
  doc: 'keepalived.conf',
  keywords: [
    r.k('net_namespace', word, {
      doc: 'Run in this network namespace (cannot change on reload).',
      notImplemented: 'keepalived-ts runs in the network namespace it is started in',
    }),
    r.k('net_namespace_ipvs', word, {
      doc: 'Network namespace of the IPVS configuration.',
      notImplemented: 'keepalived-ts runs in the network namespace it is started in',
    }),
    r.k('namespace_with_ipsets', flag, { default: false, doc: 'Use ipsets in the namespace.', notImplemented: 'keepalived-ts sets no ipsets' }),
    r.k('instance', word, { doc: 'Instance name, used in pid file and dump names.', notImplemented: 'pid files and dumps keep their default names' }),
    r.k('use_pid_dir', flag, {
      default: false,
      doc: 'Put pid files in /run/keepalived/.',
      notImplemented: 'pid files go where -p, -r and -c (or their defaults) say',
    }),
    r.k('linkbeat_use_polling', flag, {
      default: false,
      doc: 'Poll every interface for link state.',
      notImplemented: 'link state is read the same way for every interface',
    }),
    r.k('child_wait_time', int(0, 4294967295), {
      default: 5,
      doc: 'Seconds the parent waits for children to stop.',
      notImplemented: 'keepalived-ts is one process and has no children to wait for',
    }),
    r.b('global_defs', globalDefsBlock, {}),
    r.b('linkbeat_interfaces', linkbeatBlock, { default: [], notImplemented: 'link state is read the same way for every interface' }),
    r.b('interface_up_down_delays', interfaceDelaysBlock, { default: [], notImplemented: 'link changes take effect at once' }),
    r.b('track_group', trackGroupBlock, {
      multiple: true,
      field: 'trackGroups',
      notImplemented: 'static addresses, routes and rules are set but not watched, so nothing restores them or sets an instance FAULT',
    }),
    r.b('garp_group', garpGroupBlock, {
      multiple: true,
      field: 'garpGroups',
    }),
    r.b('static_ipaddress', staticAddressBlock, { default: [] }),
    r.b('static_routes', staticRoutesBlock, { default: [] }),
    r.b('static_rules', staticRulesBlock, { default: [] }),
    r.b('vrrp_script', vrrpScriptBlock, { multiple: true, field: 'vrrpScripts' }),
    r.b('track_file', trackFileBlock, { multiple: true, field: 'trackFiles', deprecated: ['vrrp_track_file'] }),
    r.b('vrrp_track_process', trackProcessBlock, { multiple: true, field: 'trackProcesses' }),
    r.b('bfd_instance', bfdInstanceBlock, { multiple: true, field: 'bfdInstances' }),
    r.b('vrrp_sync_group', syncGroupBlock, { multiple: true, field: 'syncGroups' }),
    r.b('vrrp_instance', vrrpInstanceBlock, { multiple: true, field: 'vrrpInstances' }),
    r.b('virtual_server_group', virtualServerGroupBlock, {
      multiple: true,
      field: 'virtualServerGroups',
    }),
    r.b('virtual_server', virtualServerBlock, { multiple: true, field: 'virtualServers' }),
    r.b('SSL', sslBlock, { field: 'ssl' }),
  ],
  finish(cfg) {
    // Blocks keepalived reports and then drops (bad address, no entries) are not in its model.
    cfg.virtualServers = cfg.virtualServers.filter((v) => !skippedByKeepalived(v));
    cfg.virtualServerGroups = cfg.virtualServerGroups.filter((g) => !skippedByKeepalived(g));
    // A config without global_defs still has keepalived's global defaults.
    cfg.globalDefs ??= { span: cfg.span, spans: {}, netlinkBuffers: {}, ...defaultsOf(globalDefsBlock) } as GlobalDefs;
  },
});
