// Captures for the dump tests: traffic made in a lab (src - r1 - dst) and
// recorded by the anchor tools themselves: tcpdump -w (µs and ns pcap) on
// src's link and dumpcap (pcapng, two interfaces, a comment) on the router.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../lab/index.js';

export interface Captures {
  dir: string;
  us: string;
  ns: string;
  ng: string;
}

const DNS = fileURLToPath(new URL('../fixtures/dns-tiny.py', import.meta.url));

function waitFor(child: ChildProcess, re: RegExp, stream: 'stdout' | 'stderr', ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms: ${text}`)), ms);
    child[stream]!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (re.test(text)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      if (!re.test(text)) reject(new Error(`exited ${code}: ${text}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/** A frame as hex, sent raw on an interface with socat (AF_PACKET): VLAN tags need no vlan driver. */
export function vlanFrames(srcMac: string): string[] {
  const mac = srcMac.replace(/:/g, '');
  const arp = `ffffffffffff${mac}8100000a0806000108000604000102000000000cc6336401000000000000c6336402`;
  // 802.1Q, priority 3, VLAN 20, an IPv4 UDP datagram 198.51.100.1:4000 -> 198.51.100.2:4001, "vlan!"
  const udp = `02000000000b${mac}81006014080045000021000100004011` + '0000' + 'c6336401c6336402' + '0fa00fa1000d0000' + '766c616e21';
  return [arp, udp];
}

/** The internet checksum of an ICMPv6 message under its IPv6 pseudo-header (RFC 8200 8.1). */
function icmp6Checksum(src: Buffer, dst: Buffer, msg: Buffer): number {
  const ph = Buffer.concat([src, dst, Buffer.from([0, 0, msg.length >> 8, msg.length & 0xff, 0, 0, 0, 58]), msg]);
  let sum = 0;
  for (let i = 0; i < ph.length; i += 2) sum += (ph[i]! << 8) | (ph[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A router advertisement from fe80::1 to all nodes, as a raw frame (RFC 4861
 * 4.2): hop limit 64, the managed flag, lifetime 1800 s, then source
 * link-address, MTU 1500 and prefix 2001:db8:5::/64 (on-link, autonomous).
 */
export function routerAdvertisement(srcMac: string): string {
  const mac = Buffer.from(srcMac.replace(/:/g, ''), 'hex');
  const src = Buffer.from('fe800000000000000000000000000001', 'hex');
  const dst = Buffer.from('ff020000000000000000000000000001', 'hex');
  const msg = Buffer.concat([
    Buffer.from('8600000040800708000000000000000' + '0', 'hex'),
    Buffer.from([1, 1]),
    mac,
    Buffer.from('0501000000000' + '5dc', 'hex'),
    Buffer.from('0304' + '40c0' + '00015180' + '00003840' + '00000000' + '20010db8000500000000000000000000', 'hex'),
  ]);
  msg.writeUInt16BE(icmp6Checksum(src, dst, msg), 2);
  const ip = Buffer.concat([Buffer.from([0x60, 0, 0, 0, msg.length >> 8, msg.length & 0xff, 58, 255]), src, dst]);
  return Buffer.concat([Buffer.from('333300000001', 'hex'), mac, Buffer.from('86dd', 'hex'), ip, msg]).toString('hex');
}

/** An NTPv4 client request (mode 3) and a server's reply (mode 4, stratum 2), timestamps from `now` (RFC 5905 7.3). */
export function ntpExchange(now: number): [Buffer, Buffer] {
  const ntpTime = (t: number, b: Buffer, at: number) => {
    const sec = Math.floor(t) + 2208988800;
    b.writeUInt32BE(sec >>> 0, at);
    b.writeUInt32BE(Math.floor((t % 1) * 2 ** 32) >>> 0, at + 4);
  };
  const req = Buffer.alloc(48);
  req[0] = (0 << 6) | (4 << 3) | 3;
  req[2] = 6;
  req[3] = 0xe9; // precision -23
  ntpTime(now, req, 40);
  const rep = Buffer.alloc(48);
  rep[0] = (0 << 6) | (4 << 3) | 4;
  rep[1] = 2;
  rep[2] = 6;
  rep[3] = 0xe8;
  rep.writeUInt32BE(0x00000123, 4); // root delay
  rep.writeUInt32BE(0x00000456, 8); // root dispersion
  Buffer.from([192, 0, 2, 254]).copy(rep, 12); // the reference clock's address
  ntpTime(now - 64.25, rep, 16);
  req.copy(rep, 24, 40, 48);
  ntpTime(now + 0.0001, rep, 32);
  ntpTime(now + 0.0002, rep, 40);
  return [req, rep];
}

export async function makeCaptures(lab: Lab): Promise<Captures> {
  const dir = mkdtempSync(join(tmpdir(), 'sockit-dump-'));
  spawnSync('chmod', ['777', dir]);
  const c: Captures = { dir, us: join(dir, 'us.pcap'), ns: join(dir, 'ns.pcap'), ng: join(dir, 'router.pcapng') };
  const [src, r1, dst] = [lab.src, lab.routers[0]!, lab.dst];
  const dns = lab.spawn(dst, ['python3', DNS, 'serve', '0.0.0.0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(dns, /ready/, 'stdout');
  const tcp = lab.spawn(dst, ['socat', '-u', 'TCP6-LISTEN:5001,reuseaddr,fork,ipv6only=0', 'OPEN:/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const caps = [
    lab.spawn(src, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-w', c.us], { stdio: ['ignore', 'pipe', 'pipe'] }),
    lab.spawn(src, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '--time-stamp-precision', 'nano', '-w', c.ns], { stdio: ['ignore', 'pipe', 'pipe'] }),
    lab.spawn(r1, ['dumpcap', '-q', '-i', 'eth0', '-i', 'eth1', '--capture-comment', 'sockit dump test', '-w', c.ng], { stdio: ['ignore', 'pipe', 'pipe'] }),
  ];
  await Promise.all([waitFor(caps[0]!, /listening on/, 'stderr'), waitFor(caps[1]!, /listening on/, 'stderr'), waitFor(caps[2]!, /Capturing on/, 'stderr')]);
  await new Promise((r) => setTimeout(r, 300));
  const x = (argv: string[], input?: string | Buffer) => lab.exec(src, argv, { input, timeoutMs: 15_000 });
  // a new address (deprecated at once: never a source address): its solicited-node group is reported (MLDv2)
  await x(['ip', 'addr', 'add', '2001:db8::99/64', 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
  await x(['ping', '-c', '2', '-i', '0.2', dst.v4]);
  await x(['ping', '-6', '-c', '2', '-i', '0.2', dst.v6]);
  await x(['ping', '-c', '1', '-s', '3000', dst.v4]);
  // IPv4 options: record route and timestamps
  await x(['ping', '-c', '1', '-R', dst.v4]);
  await x(['ping', '-c', '1', '-T', 'tsonly', dst.v4]);
  await x(['ping', '-6', '-c', '1', '-s', '3000', dst.v6]);
  await x(['traceroute', '-n', '-q', '1', '-m', '3', dst.v4]);
  await x(['traceroute', '-6', '-n', '-q', '1', '-m', '3', dst.v6]);
  await x(['socat', '-u', '-', `TCP:${dst.v4}:5001`], 'hello, dump\r\nsecond line\n');
  await x(['socat', '-u', '-', `TCP6:[${dst.v6}]:5001`], 'six\n');
  await x(['socat', '-u', '-', `TCP:${dst.v4}:5002`], '');
  await x(['socat', '-u', '-', `UDP:${dst.v4}:9999`], 'udp four\n');
  await x(['socat', '-u', '-', `UDP6:[${dst.v6}]:9999`], 'udp six\n');
  await x(['python3', DNS, 'ask', dst.v4, 'host.example', 'A', '4242']);
  await x(['python3', DNS, 'ask', dst.v4, 'www.example', 'A', '4243']);
  await x(['python3', DNS, 'ask', dst.v4, 'missing.example', 'AAAA', '4244']);
  const [req, reply] = ntpExchange(Date.now() / 1000);
  await x(['socat', '-u', '-', `UDP:${dst.v4}:123,sourceport=123`], req);
  await lab.exec(dst, ['socat', '-u', '-', `UDP:${src.v4}:123,sourceport=123`], { input: reply });
  const link = await lab.exec(src, ['cat', '/sys/class/net/eth0/address']);
  for (const frame of [...vlanFrames(link.stdout.trim()), routerAdvertisement(link.stdout.trim())]) {
    await lab.exec(src, ['socat', '-u', '-', 'INTERFACE:eth0'], { input: Buffer.from(frame, 'hex') });
  }
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all(caps.map(stop));
  dns.kill('SIGKILL');
  tcp.kill('SIGKILL');
  return c;
}
