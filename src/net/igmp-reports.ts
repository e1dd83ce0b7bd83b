// disable_local_igmp (keepalived vrrp_daemon.c set_disable_local_igmp): while VRRP runs,
// net.ipv4.igmp_link_local_mcast_reports is 0, so the kernel sends no IGMP reports for the
// 224.0.0.x groups it joins (224.0.0.18 among them). The value found is put back at stop, and only
// a 1 is changed, as keepalived does; each failure is keepalived's log line.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export const IGMP_LINK_LOCAL_REPORTS = '/proc/sys/net/ipv4/igmp_link_local_mcast_reports';

/** Sets it to 0 when it is 1; returns what puts it back (nothing to do when it was not changed). */
export function disableLocalIgmp(log: (message: string) => void, path = IGMP_LINK_LOCAL_REPORTS): () => void {
  const errnoOf = (e: unknown): number => -((e as { errno?: number }).errno ?? 0);
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    log(`Unable to open ${path} - errno ${errnoOf(e)}`);
    return () => {};
  }
  try {
    const buf = Buffer.alloc(1);
    if (readSync(fd, buf, 0, 1, 0) !== 1) {
      log(`Unable to read ${path} - errno 0`);
      return () => {};
    }
    if (buf.toString() !== '1') return () => {};
    writeSync(fd, '0', 0);
  } catch (e) {
    log(`Unable to write ${path} - errno ${errnoOf(e)}`);
    return () => {};
  } finally {
    closeSync(fd);
  }
  return () => {
    try {
      const w = openSync(path, 'r+');
      try {
        writeSync(w, '1', 0);
      } finally {
        closeSync(w);
      }
    } catch (e) {
      log(`Unable to write ${path} - errno ${errnoOf(e)}`);
    }
  };
}
