#!/usr/bin/env python3
# Send crafted VRRPv2 adverts from a network namespace, for the receive-hardening tests and the
# flood benchmark: forged sources (IP_HDRINCL), any TTL, and floods at a paced rate.
#
#   vrrp-send.py --dst 224.0.0.18 --vrid 51 --prio 50 --vip 10.99.7.100 [--pass s3cret]
#                [--src 192.0.2.7] [--ttl 255] [--dev eth0] [--count N | --seconds S] [--rate PPS]
#
# Prints one JSON line when done: {"sent": N, "seconds": S}.
import argparse
import json
import socket
import struct
import time


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def advert(vrid, prio, vips, password, interval):
    auth = 1 if password is not None else 0
    data = (password or '').encode('latin1')[:8].ljust(8, b'\0')
    body = struct.pack('!BBBBBBH', 0x21, vrid, prio, len(vips), auth, interval, 0)
    body += b''.join(socket.inet_aton(v) for v in vips) + data
    return body[:6] + struct.pack('!H', checksum(body)) + body[8:]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dst', default='224.0.0.18')
    p.add_argument('--src', help='forge this source address (IP_HDRINCL)')
    p.add_argument('--ttl', type=int, default=255)
    p.add_argument('--dev', default='eth0')
    p.add_argument('--vrid', type=int, required=True)
    p.add_argument('--prio', type=int, required=True)
    p.add_argument('--vip', action='append', required=True)
    p.add_argument('--pass', dest='password')
    p.add_argument('--interval', type=int, default=1)
    p.add_argument('--count', type=int, default=0)
    p.add_argument('--seconds', type=float, default=0)
    p.add_argument('--rate', type=float, default=0, help='packets per second; 0 = as fast as possible')
    a = p.parse_args()

    msg = advert(a.vrid, a.prio, a.vip, a.password, a.interval)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
    if a.src:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 20 + len(msg), 0, 0, a.ttl, 112, 0, socket.inet_aton(a.src), socket.inet_aton(a.dst))
        pkt = hdr + msg
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, a.ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a.ttl)
        pkt = msg
    dst = (a.dst, 0)
    sent = 0
    start = time.monotonic()
    end = start + a.seconds if a.seconds else None
    batch = 50
    while True:
        now = time.monotonic()
        if a.count and sent >= a.count:
            break
        if end is not None and now >= end:
            break
        if a.rate:
            due = int((now - start) * a.rate) + 1 - sent
            if due <= 0:
                time.sleep(min(0.002, max(0.0, (sent + 1) / a.rate - (now - start))))
                continue
            n = min(due, batch)
        else:
            n = batch
        if a.count:
            n = min(n, a.count - sent)
        for _ in range(n):
            try:
                s.sendto(pkt, dst)
                sent += 1
            except OSError:
                time.sleep(0.0005)
                break
    print(json.dumps({'sent': sent, 'seconds': round(time.monotonic() - start, 3)}), flush=True)


main()
