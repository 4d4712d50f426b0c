// ICMP echo round trips on loopback for 2 s through the socket core, one in
// flight at a time, next to iputils `ping -f` for 2 s in the same run.
//   node bench/core-echo.mjs [seconds]
import { have, requireBuilt, row, root, timed } from './common.mjs';

requireBuilt();
const { listen, packet } = await import(`${root}dist/stack/index.js`);
const seconds = Number(process.argv[2] ?? 2);

async function core(family) {
  const ep = listen({ family });
  ep.setIdent(process.pid);
  ep.filterEchoReplies();
  const mod = family === 4 ? packet.icmp4 : packet.icmp6;
  const dst = family === 4 ? '127.0.0.1' : '::1';
  const payload = Buffer.alloc(56);
  let seq = 0;
  let rtts = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(seconds * 1e9);
  const wire = mod.encode(mod.echo(mod.ECHO_REQUEST, ep.ident, 0, payload));
  await new Promise((resolve) => {
    const send = () => {
      seq = (seq + 1) & 0xffff;
      wire.writeUInt16BE(seq, 6);
      if (family === 4) {
        wire.writeUInt16BE(0, 2);
        wire.writeUInt16BE(packet.checksum.checksum(wire), 2);
      }
      ep.sendQuick(wire, dst);
    };
    // the hot-loop forms: echo replies read in place, sends without a result object
    ep.listen({
      packet() {},
      echoReply(r) {
        if (r.seq !== seq) return;
        rtts++;
        if (process.hrtime.bigint() >= end) return resolve();
        send();
      },
    });
    send();
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const mode = ep.mode;
  ep.close();
  return { rate: rtts / secs, mode };
}

function iputils(family) {
  const r = timed(['ping', `-${family}`, '-f', '-q', '-w', String(seconds), family === 4 ? '127.0.0.1' : '::1']);
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(r.stdout);
  if (!m) throw new Error(`could not read ping's summary:\n${r.stdout}${r.stderr}`);
  return Number(m[2]) / (Number(m[3]) / 1000);
}

if (!have('ping')) {
  console.error('bench: iputils ping is not installed (apt-get install iputils-ping)');
  process.exit(2);
}
console.log(`ICMP echo round trips on loopback, ${seconds} s each, one in flight`);
for (const family of [4, 6]) {
  const ours = await core(family);
  const theirs = iputils(family);
  row(`IPv${family} round trips/s (${ours.mode})`, ours.rate, theirs, 'rt/s', true);
}
