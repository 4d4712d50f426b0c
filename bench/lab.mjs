// A minimal chain of network namespaces for benches (plain JS: benches run
// without the TypeScript test tree). Same addressing as test/lab/plan.ts:
// link k = 192.0.2.16k/28 and 2001:db8:0:k::/64, .16k+1 / ::1 toward the
// destination, .16k+2 / ::2 toward the source. Names follow test/lab's
// pattern (sk<pid>x<seq>-…), so its stale-lab sweep removes leftovers.
import { spawnSync } from 'node:child_process';

let seq = 0;

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

const v4 = (link, host) => `192.0.2.${16 * link + host}`;
const v6 = (link, host) => `2001:db8:0:${link.toString(16)}::${host}`;

/** src — r1 … rN — dst; returns { nodes, src, dst, routers, exec, silent, close }. */
export function chain(routers, label = 'bench') {
  const prefix = `sk${process.pid}x${900 + ++seq}-${label}-`;
  const n = routers + 2;
  const names = Array.from({ length: n }, (_, i) => prefix + (i === 0 ? 's0' : i === n - 1 ? `d${i}` : `r${i}`));
  const batch = names.map((x) => `netns add ${x}`);
  for (let k = 0; k <= routers; k++) {
    batch.push(`link add name ${k === 0 ? 'eth0' : 'eth1'} netns ${names[k]} type veth peer name eth0 netns ${names[k + 1]}`);
  }
  sh(['ip', '-batch', '-'], batch.join('\n') + '\n');
  const lab = {
    names,
    close() {
      spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((x) => `netns del ${x}\n`).join('') });
    },
  };
  try {
    for (let i = 0; i < n; i++) {
      const router = i > 0 && i < n - 1;
      const sysctls = [
        'net.ipv4.icmp_ratelimit=0',
        'net.ipv4.icmp_ratemask=0',
        'net.ipv6.icmp.ratelimit=0',
        'net.ipv4.icmp_msgs_per_sec=1000000',
        'net.ipv4.icmp_msgs_burst=1000000',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        ...(router ? ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'] : []),
      ];
      sh(['ip', 'netns', 'exec', names[i], 'sysctl', '-q', '-w', ...sysctls]);
      const lines = ['link set lo up'];
      const ifs = router ? ['eth0', 'eth1'] : ['eth0'];
      for (const dev of ifs) lines.push(`link set ${dev} up`);
      if (i > 0) lines.push(`addr add ${v4(i - 1, 1)}/28 dev eth0`, `addr add ${v6(i - 1, 1)}/64 dev eth0 nodad`);
      if (i < n - 1) {
        const dev = i === 0 ? 'eth0' : 'eth1';
        lines.push(`addr add ${v4(i, 2)}/28 dev ${dev}`, `addr add ${v6(i, 2)}/64 dev ${dev} nodad`);
      }
      if (i === 0) lines.push(`route add default via ${v4(0, 1)}`, `route add ::/0 via ${v6(0, 1)}`);
      else if (i === n - 1) lines.push(`route add default via ${v4(i - 1, 2)}`, `route add ::/0 via ${v6(i - 1, 2)}`);
      else {
        for (let k = 0; k <= routers; k++) {
          if (k === i - 1 || k === i) continue;
          const [via4, via6] = k > i ? [v4(i, 1), v6(i, 1)] : [v4(i - 1, 2), v6(i - 1, 2)];
          lines.push(`route add ${v4(k, 0)}/28 via ${via4}`, `route add ${v6(k, 0)}/64 via ${via6}`);
        }
      }
      sh(['ip', '-n', names[i], '-batch', '-'], lines.join('\n') + '\n');
    }
    // wait for the veths to be operationally up
    for (let t = 0; t < 200; t++) {
      const down = names.some((x) => / state (?!UP)/.test(sh(['ip', '-n', x, '-o', 'link', 'show', 'type', 'veth'])));
      if (!down) break;
      spawnSync('sleep', ['0.02']);
    }
  } catch (e) {
    lab.close();
    throw e;
  }
  return Object.assign(lab, {
    src: names[0],
    dst: names[n - 1],
    routers: names.slice(1, -1),
    /** the destination's address */
    dst4: v4(routers, 1),
    dst6: v6(routers, 1),
    /** drop every ICMP error the node would send: a router that answers nothing */
    silent(ns) {
      sh(
        ['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
        [
          'add table inet bench',
          'add chain inet bench output { type filter hook output priority 0; policy accept; }',
          'add rule inet bench output icmp type { destination-unreachable, time-exceeded } drop',
          'add rule inet bench output icmpv6 type { destination-unreachable, time-exceeded } drop',
        ].join('\n') + '\n',
      );
    },
  });
}
