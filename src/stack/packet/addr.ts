// Textual IPv4/IPv6 addresses <-> network-order bytes. Output follows
// inet_ntop(3) (RFC 5952 compression) so it matches what the kernel tools print.

export function parseIPv4(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p[0] === '0')) return null;
    out[i] = n;
  }
  return out;
}

// formatted addresses, direct-mapped by value: a packet loop sees few addresses
const cacheKey = new Float64Array(64).fill(-1);
const cacheText: string[] = new Array(64).fill('');

export function formatIPv4(buf: Uint8Array, offset = 0): string {
  const v = ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
  const slot = (v ^ (v >>> 8) ^ (v >>> 16)) & 63;
  if (cacheKey[slot] === v) return cacheText[slot];
  const text = `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  cacheKey[slot] = v;
  cacheText[slot] = text;
  return text;
}

export function parseIPv6(text: string): Buffer | null {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct); // zone id is not part of the address bytes
  const out = Buffer.alloc(16);
  // an embedded IPv4 tail ("::ffff:192.0.2.1")
  let tail: Buffer | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups = head.length + rest.length;
  if (halves.length === 1 ? groups !== 8 : groups > 7) return null;
  const words: number[] = [];
  for (const g of head) words.push(hexWord(g));
  if (halves.length === 2) for (let i = 0; i < 8 - groups; i++) words.push(0);
  for (const g of rest) words.push(hexWord(g));
  if (words.some((w) => w < 0)) return null;
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  if (tail) tail.copy(out, 12);
  return out;
}

function hexWord(g: string): number {
  return /^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : -1;
}

export function formatIPv6(buf: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1]);
  // IPv4-mapped and IPv4-compatible forms print the last 32 bits dotted, as glibc does
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && (w[5] === 0xffff || (w[5] === 0 && w[6] !== 0))) {
    const v4 = formatIPv4(buf, offset + 12);
    return w[5] === 0xffff ? `::ffff:${v4}` : `::${v4}`;
  }
  // longest run of two or more zero words, first one on ties
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** 4 or 6 for a textual address, 0 when it is neither. */
export function addressFamily(text: string): 0 | 4 | 6 {
  if (parseIPv4(text)) return 4;
  if (text.includes(':') && parseIPv6(text)) return 6;
  return 0;
}

export function parseAddress(text: string): Buffer | null {
  return parseIPv4(text) ?? (text.includes(':') ? parseIPv6(text) : null);
}

export function formatAddress(buf: Uint8Array, offset = 0, length = buf.length - offset): string {
  return length === 4 ? formatIPv4(buf, offset) : formatIPv6(buf, offset);
}

/** 224.0.0.0/4 or ff00::/8 (RFC 5771, RFC 4291 2.7); false for what is not an address. */
export function isMulticast(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4) return (v4[0]! & 0xf0) === 0xe0;
  return parseIPv6(address)?.[0] === 0xff;
}

/** inet_aton(3): the IPv4 forms iputils takes as numeric ("127.1", "0x7f000001", "010.0.0.1" ...), as a dotted quad; null when not one. */
export function inetAton(s: string): string | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === '')) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) n = parseInt(p, 10);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null;
  let v = 0;
  nums.forEach((n, i) => (v += n * 2 ** (24 - 8 * i)));
  v += last;
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}
