// The Node twin of ping-floor.c, for bench/ping.mjs: the same N echo round
// trips to 127.0.0.1 on the same raw socket, each one a call of sockit's
// addon for sendto(2) and for recvmsg(2), with no ping logic around them
// (no payload time, no statistics, no output). This is the least time a
// ping written in JavaScript over this addon can take: what it adds to the
// C loop is Node's start-up and the cost of crossing into C twice per round
// trip.
// With --sendrecv, each round trip is one call of the addon's sendrecv
// (sendto and recvmsg in one crossing) with its arguments bound once
// (sendrecvBind), the floor of sockit's flood path.
//   node bench/ping-floor.mjs 100000 [--sendrecv]
// prints the loop's wall time in milliseconds (start-up is outside it; time
// the process to include it).
import { binding } from '../dist/stack/native/index.js';
import * as C from '../dist/stack/constants.js';
import { checksum } from '../dist/stack/packet/checksum.js';

const n = Number(process.argv[2] ?? 100000);
const pair = process.argv.includes('--sendrecv');
let fd;
try {
  fd = binding.socket(C.AF_INET, C.SOCK_RAW, C.IPPROTO_ICMP);
} catch (e) {
  console.error(`ping-floor: socket: ${e.message} (needs CAP_NET_RAW)`);
  process.exit(2);
}
binding.setsockopt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
const onlyEchoReply = Buffer.alloc(4);
onlyEchoReply.writeUInt32LE(~1 >>> 0); // a set bit blocks that ICMP type
binding.setsockopt(fd, C.SOL_RAW, C.ICMP_FILTER, onlyEchoReply);

const to = Buffer.alloc(16);
to.writeUInt16LE(C.AF_INET, 0); // sa_family, host order
to.set([127, 0, 0, 1], 4);
const req = Buffer.alloc(64);
req[0] = 8; // echo request
const rbuf = Buffer.alloc(256);
const meta = new Int32Array(38),
  addrs = Buffer.alloc(288),
  ts = new BigInt64Array(1),
  stamps = new BigInt64Array(2);
const id = process.pid & 0xffff;

const bound = pair ? binding.sendrecvBind(fd, req, 0, to, stamps, rbuf, 0, meta, addrs, ts, 0) : null;
let got = 0;
const t0 = performance.now();
for (let seq = 0; seq < n; seq++) {
  req[2] = req[3] = 0;
  req.writeUInt16BE(id & 0xffff, 4);
  req.writeUInt16BE(seq & 0xffff, 6);
  req.writeUInt16BE(checksum(req), 2);
  let r = -1;
  if (pair) r = binding.sendrecvBound(bound);
  else binding.sendto(fd, req, 0, to, stamps);
  for (;;) {
    // the addon's recvmsg never blocks: the reply is usually queued before sendto returns
    if (r < 0) r = binding.recvmsg(fd, rbuf, 0, meta, addrs, ts);
    if (r < 0) continue;
    const hl = (rbuf[0] & 15) * 4;
    if (r >= hl + 8 && rbuf[hl] === 0 && ((rbuf[hl + 4] << 8) | rbuf[hl + 5]) === id) {
      got++;
      break;
    }
    r = -1;
  }
}
const ms = performance.now() - t0;
binding.close(fd);
if (got !== n) {
  console.error(`ping-floor: ${got} of ${n} replies`);
  process.exit(1);
}
console.log(ms.toFixed(1));
