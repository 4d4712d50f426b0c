// The floor of sockit ss -tan's wall time (run by bench/netstat.mjs inside its
// namespace): Node's start, the addon, and the TCP sock_diag dumps read to
// NLMSG_DONE with nothing decoded, formatted or written. What any Node front
// end pays before its first line. Without an argument: the two dumps ss -tan
// asks for (IPv4 then IPv6, every state), which ss pays too; with `one`: the
// one TCPDIAG_GETSOCK walk of both families sockit ss -tan asks for
// (Inventory.tcpRaw).
'use strict';
const { join } = require('node:path');
const native = require(join(__dirname, '..', 'build', 'Release', 'sockit.node'));

const AF_NETLINK = 16,
  SOCK_RAW = 3,
  NETLINK_SOCK_DIAG = 4,
  SOCK_DIAG_BY_FAMILY = 20,
  TCPDIAG_GETSOCK = 18,
  NLM_F_REQUEST_DUMP = 0x301,
  NLMSG_DONE = 3,
  NLMSG_ERROR = 2,
  ALL_STATES = (1 << 12) - 2,
  TCP = 6;
const meta = new Int32Array(38),
  addrs = Buffer.alloc(288),
  ts = new BigInt64Array(1);
const fd = native.socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
const buf = Buffer.allocUnsafe(64 * 1024);
// nlmsghdr, then inet_diag_req_v2 (family, protocol, ext, pad, states) with a zero inet_diag_sockid
const v2 = (family) => {
  const req = Buffer.alloc(72);
  req.writeUInt32LE(72, 0);
  req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  req.writeUInt16LE(NLM_F_REQUEST_DUMP, 6);
  req[16] = family;
  req[17] = TCP;
  req.writeUInt32LE(ALL_STATES, 20);
  return req;
};
// nlmsghdr, then struct inet_diag_req (idiag_states at 52): both families at once
const both = () => {
  const req = Buffer.alloc(76);
  req.writeUInt32LE(76, 0);
  req.writeUInt16LE(TCPDIAG_GETSOCK, 4);
  req.writeUInt16LE(NLM_F_REQUEST_DUMP, 6);
  req.writeUInt32LE(ALL_STATES, 16 + 52);
  return req;
};
for (const req of process.argv[2] === 'one' ? [both()] : [v2(2), v2(10)]) {
  native.sendto(fd, req, 0, null);
  for (let done = false; !done; ) {
    const n = native.recvmsg(fd, buf, 0, meta, addrs, ts);
    if (n < 0) continue; // the kernel makes the next batch as the last one is read: never long
    for (let o = 0; o + 16 <= n; o += (buf.readUInt32LE(o) + 3) & ~3) {
      const type = buf.readUInt16LE(o + 4);
      if (type === NLMSG_DONE || type === NLMSG_ERROR) done = true;
    }
  }
}
native.close(fd);
