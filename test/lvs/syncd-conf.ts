// The sync daemon VM tests' configuration: one VRRP instance that owns its address on kts0 (the
// VM's dummy interface), so MASTER at once, with GLOBAL (an lvs_sync_daemon line, or none) in
// global_defs.
export const syncdConf = (global: string): string => `global_defs {
${global}
}
vrrp_instance VI_1 {
  state MASTER
  interface kts0
  virtual_router_id 42
  priority 255
  advert_int 1
  virtual_ipaddress {
    10.30.0.100/24
  }
}
`;
