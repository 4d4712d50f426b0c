// Where sockit ss -tan's time per socket goes, warm, in one process (run by
// bench/netstat.mjs inside its namespace): the kernel's dump alone (recvmsg
// of inet_diag_msg batches, nothing decoded: the floor sockit shares with
// ss), then decoding, ss's tokens and ss's table. CPU time (user+sys) per
// socket, the median of 7 passes. Prints one JSON line.
const root = new URL('..', import.meta.url).pathname;
const { Inventory } = await import(`${root}dist/stack/inventory/index.js`);
const { NetlinkSocket } = await import(`${root}dist/stack/netlink/socket.js`);
const { inetDiagReqV2, SOCK_DIAG_BY_FAMILY } = await import(`${root}dist/stack/abi/sock_diag.js`);
const { NETLINK_SOCK_DIAG } = await import(`${root}dist/stack/abi/netlink.js`);
const { inetTokens, Table } = await import(`${root}dist/commands/ss/text.js`);

const ALL_STATES = (1 << 12) - 2;
const TCP = 6;
const text = { numeric: true, processes: false, extended: false, timers: false, memory: false, info: false, ifname: () => undefined, cgroupPath: () => '' };

async function perSocket(fn) {
  const runs = [];
  for (let i = 0; i < 7; i++) {
    const c0 = process.cpuUsage();
    const n = await fn();
    const c = process.cpuUsage(c0);
    runs.push((c.user + c.system) / Math.max(n, 1));
  }
  return runs.sort((a, b) => a - b)[3];
}

async function rawDump() {
  const nl = NetlinkSocket.open(NETLINK_SOCK_DIAG);
  let n = 0;
  for (const family of [2, 10])
    await nl.dump(SOCK_DIAG_BY_FAMILY, inetDiagReqV2.encode({ family, protocol: TCP, ext: 0, states: ALL_STATES, rawProtocol: 0 }), () => n++);
  nl.close();
  return n;
}

async function walk(each) {
  const inv = new Inventory();
  let n = 0;
  for (const family of [4, 6])
    await inv.inet('tcp', family, ALL_STATES, 0, (s) => {
      each(s);
      n++;
    });
  inv.close();
  return n;
}

const out = {
  kernel_dump_us: await perSocket(rawDump),
  decoded_us: await perSocket(() => walk(() => {})),
  tokens_us: await perSocket(() => walk((s) => inetTokens(s, text))),
  table_us: await perSocket(async () => {
    const disabled = [true, false, false, false, false, false, false, false, false, false];
    const t = new Table(disabled, () => {}, null, 'fixed', false);
    const n = await walk((s) => t.row(inetTokens(s, text)));
    t.render();
    return n;
  }),
};
console.log(JSON.stringify(out));
