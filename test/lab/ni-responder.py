#!/usr/bin/env python3
"""An RFC 4620 node information responder for the ping -N lab tests.

Linux answers no node information queries itself, and iputils dropped its
ninfod, so a test host runs this: a raw ICMPv6 socket that lets only queries
(type 139) in and answers them from a JSON configuration (argv[1]):

  names      [[name, fqdn], ...] for the Node Name qtype; a name "www.@" is
             sent as "www" plus a compression pointer to the first name's
             second label, to exercise the reader's pointer handling
  v6, v4     the addresses it has (Node Addresses / IPv4 Addresses qtypes)
  refuse_v4_subject   answer "refused" to queries whose subject is IPv4
  truncate   set the Truncate flag on address replies

It answers only for subjects that are its own (an address it has, or one of
its names), prints "ready" once listening, and runs until killed. Written
apart from sockit so the tests do not check sockit against itself.
"""
import ipaddress
import json
import socket
import struct
import sys

QUERY, REPLY = 139, 140
QTYPE_NAME, QTYPE_V6, QTYPE_V4 = 2, 3, 4
SUBJ_V6, SUBJ_NAME, SUBJ_V4 = 0, 1, 2
SUCCESS, REFUSED, UNKNOWN = 0, 1, 2
FLAG_TRUNCATE, FLAG_LINKLOCAL, FLAG_SITELOCAL, FLAG_GLOBAL = 0x1, 0x8, 0x10, 0x20
ICMP6_FILTER = 1

cfg = json.loads(sys.argv[1])
names = cfg.get("names", [])
v6 = [ipaddress.IPv6Address(a) for a in cfg.get("v6", [])]
v4 = [ipaddress.IPv4Address(a) for a in cfg.get("v4", [])]


def labels(name):
    return [l for l in name.rstrip(".").lower().split(".") if l]


def wire(name, fqdn):
    out = b"".join(bytes([len(l)]) + l.encode() for l in labels(name))
    return out + (b"\0" if fqdn else b"\0\0")


def name_data():
    data = bytearray(b"\0\0\0\0")  # TTL
    first_at = None
    for name, fqdn in names:
        if name.endswith(".@") and first_at is not None:
            head = labels(name[:-2])
            data += b"".join(bytes([len(l)]) + l.encode() for l in head)
            # pointer (offset from the start of the data) to the first name's second label
            second = first_at + 1 + data[first_at]
            data += struct.pack("!H", 0xC000 | second)
            continue
        if first_at is None:
            first_at = len(data)
        data += wire(name, fqdn)
    return bytes(data)


def scope_ok(a, flags):
    wanted = flags & (FLAG_LINKLOCAL | FLAG_SITELOCAL | FLAG_GLOBAL)
    if not wanted:
        return True
    if a.is_link_local:
        return bool(flags & FLAG_LINKLOCAL)
    if a.is_site_local:
        return bool(flags & FLAG_SITELOCAL)
    return bool(flags & FLAG_GLOBAL)


def subject_is_ours(code, subject):
    if code == SUBJ_V6:
        return len(subject) == 16 and ipaddress.IPv6Address(subject) in v6
    if code == SUBJ_V4:
        return len(subject) == 4 and ipaddress.IPv4Address(subject) in v4
    if code == SUBJ_NAME:
        got, p = [], 0
        while p < len(subject) and subject[p]:
            got.append(subject[p + 1 : p + 1 + subject[p]].decode(errors="replace").lower())
            p += 1 + subject[p]
        return any(got == labels(n) for n, _ in names)
    return False


def answer(query):
    code, qtype, flags = query[1], *struct.unpack("!HH", query[4:8])
    nonce, subject = query[8:16], query[16:]
    if code == SUBJ_V4 and cfg.get("refuse_v4_subject"):
        return struct.pack("!BBHHH", REPLY, REFUSED, 0, qtype, 0) + nonce
    if not subject_is_ours(code, subject):
        return None
    out_flags, data, result = 0, b"", SUCCESS
    if qtype == QTYPE_NAME:
        data = name_data()
    elif qtype in (QTYPE_V6, QTYPE_V4):
        addrs = [a for a in v6 if scope_ok(a, flags)] if qtype == QTYPE_V6 else v4
        data = b"".join(b"\0\0\0\x3c" + a.packed for a in addrs)  # TTL 60
        if cfg.get("truncate"):
            out_flags |= FLAG_TRUNCATE
    else:
        result = UNKNOWN
    return struct.pack("!BBHHH", REPLY, result, 0, qtype, out_flags) + nonce + data


def main():
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    blocked = [0xFFFFFFFF] * 8  # a set bit blocks that type
    blocked[QUERY >> 5] &= ~(1 << (QUERY & 31))
    s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("=8I", *blocked))
    print("ready", flush=True)
    while True:
        query, peer = s.recvfrom(2048)
        if len(query) < 16 or query[0] != QUERY:
            continue
        reply = answer(query)
        if reply is not None:
            s.sendto(reply, peer)  # the kernel fills in the ICMPv6 checksum


if __name__ == "__main__":
    main()
