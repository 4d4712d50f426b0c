// ss's numeric inet listing (ss -tan and the like; lines.ts drives it) in
// WebAssembly: each sock_diag datagram walked, checked and kept as lines of
// numbers, measured and rendered as fast.ts does, from the first socket at
// compiled speed (a JIT runs the first thousands of a listing's sockets in
// its interpreter: most of what sockit ss -tan costs above its floor).
// Policy-free: no text but ss's state names; the address tokens come from
// JavaScript (addr_token), the column widths too (lines.ts, Columns).
//
// The same module writes netstat's numeric Internet lines (netstat -tan and
// the like; netstat/lines.ts drives it, netstat_configure()): each shown
// socket's line as it is read, in tcp_do_one's widths, with no column to
// measure.
//
// Built by scripts/wasm.mjs (clang --target=wasm32, no libc) into
// lines-wasm.ts; `npm run wasm` after a change here.
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/** the token id of an address (family 2: 4 bytes, 10: 16), v6only, scoped to ifindex (0: none) */
IMPORT(addr_token) i32 js_addr_token(const u8 *addr, i32 family, i32 v6only, u32 ifindex);
/** bytes of output */
IMPORT(write) void js_write(const u8 *p, i32 n);
/** ss renders now: lines.ts lays the columns out and calls render_lines() */
IMPORT(render) void js_render(void);
/** the header line's turn in render_lines() (the output so far written) */
IMPORT(header) void js_header(void);

enum { NETID, STATE, RECVQ, SENDQ, ADDR, SERV, RADDR, RSERV, PROC, EXT, NCOLS };

/** text.ts's CHUNK and RENDER_AT: ss renders when 4 chunks of tokens pile up */
#define RENDER_AT (4u * (1024u * 1024u - 16u))
#define HEADER_LINE 255
#define NLMSG_HDRLEN 16
#define MSG_LEN 72
#define INET_DIAG_SKV6ONLY 11

// ---------- memory: a bump allocator over memory.grow (a listing's process is short) ----------

extern u8 __heap_base;
static u32 brk;

static void *alloc(u32 n) {
  if (!brk) brk = (u32)&__heap_base;
  u32 p = (brk + 7) & ~7u;
  u32 have = (u32)__builtin_wasm_memory_size(0) * 65536u;
  if (p + n > have && __builtin_wasm_memory_grow(0, (p + n - have + 65535) / 65536) < 0) __builtin_trap();
  brk = p + n;
  return (void *)p;
}

static void copy(u8 *d, const u8 *s, u32 n) {
  for (u32 i = 0; i < n; i++) d[i] = s[i];
}

/** a bigger array with the first `used` bytes of `old` */
static void *more(void *old, u32 used, u32 size) {
  u8 *p = alloc(size);
  copy(p, old, used);
  return p;
}

// ---------- lines ----------

typedef struct {
  u8 kind; /* the table (0 tcp, 1 udp, 2 raw), or HEADER_LINE */
  u8 state;
  u16 sport, dport, pad;
  u32 rq, wq;
  u32 local, peer; /* token ids */
} Line;

/* Lines in chunks, kept from render to render and never copied: a bump
 * allocator frees nothing, so arrays doubled by copying would hold every
 * size they had been (twice the lines at the end), where chunks hold the
 * lines and one chunk's slack. */
#define CHUNK_LINES 4096u
#define MAX_CHUNKS 1024u

typedef struct {
  Line *chunk[MAX_CHUNKS];
  u32 n;
} Lines;

static Lines lines, held;

static Line *push(Lines *a) {
  u32 c = a->n / CHUNK_LINES;
  if (c == MAX_CHUNKS) __builtin_trap();
  if (!a->chunk[c]) a->chunk[c] = alloc(CHUNK_LINES * sizeof(Line));
  return &a->chunk[c][a->n++ % CHUNK_LINES];
}

static Line *line_at(const Lines *a, u32 i) {
  return &a->chunk[i / CHUNK_LINES][i % CHUNK_LINES];
}

// ---------- tokens (made in JavaScript: token_new) ----------

static u8 **tok_ptr;
static u16 *tok_len;
static u32 ntok, captok;

/** room for a new token of n bytes (the next id): where its bytes go */
EXPORT(token_new) u8 *token_new(u32 n) {
  if (ntok == captok) {
    u32 c = captok ? 2 * captok : 256;
    tok_ptr = more(tok_ptr, ntok * sizeof(u8 *), c * sizeof(u8 *));
    tok_len = more(tok_len, ntok * sizeof(u16), c * sizeof(u16));
    captok = c;
  }
  u8 *p = alloc(n ? n : 1);
  tok_ptr[ntok] = p;
  tok_len[ntok] = (u16)n;
  ntok++;
  return p;
}

// the address tokens met, by address: open addressing over (family, v6only, ifindex, 16 bytes)
typedef struct {
  u32 ifindex;
  u8 family, v6only, used, pad;
  u32 w[4];
  i32 id;
} Slot;

static Slot *slots;
static u32 nslots, capslots;
static Slot last[2]; /* the last address met as local (0) and as peer (1): a dump repeats its few */

static u32 hash(const Slot *k) {
  u32 h = 2166136261u ^ k->ifindex ^ ((u32)k->family << 8) ^ ((u32)k->v6only << 16);
  for (int i = 0; i < 4; i++) h = (h ^ k->w[i]) * 16777619u;
  return h ^ (h >> 15);
}

static int same(const Slot *a, const Slot *b) {
  return a->ifindex == b->ifindex && a->family == b->family && a->v6only == b->v6only && a->w[0] == b->w[0] && a->w[1] == b->w[1] &&
         a->w[2] == b->w[2] && a->w[3] == b->w[3];
}

static Slot *find(const Slot *k) {
  u32 m = capslots - 1;
  for (u32 i = hash(k) & m;; i = (i + 1) & m)
    if (!slots[i].used || same(&slots[i], k)) return &slots[i];
}

static void rehash(void) {
  Slot *old = slots;
  u32 n = capslots;
  capslots = n ? 2 * n : 64;
  slots = alloc(capslots * sizeof(Slot));
  for (u32 i = 0; i < capslots; i++) slots[i].used = 0;
  for (u32 i = 0; i < n; i++)
    if (old[i].used) *find(&old[i]) = old[i];
}

static u32 ld32(const u8 *p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((u32)p[3] << 24);
}

static u32 address(const u8 *a, u8 family, u8 v6only, u32 ifindex, int which) {
  Slot k;
  k.ifindex = ifindex;
  k.family = family;
  k.v6only = v6only;
  k.used = 1;
  k.pad = 0;
  k.w[0] = ld32(a);
  k.w[1] = family == 10 ? ld32(a + 4) : 0;
  k.w[2] = family == 10 ? ld32(a + 8) : 0;
  k.w[3] = family == 10 ? ld32(a + 12) : 0;
  if (last[which].used && same(&last[which], &k)) return (u32)last[which].id;
  if (2 * (nslots + 1) > capslots) rehash();
  Slot *s = find(&k);
  if (!s->used) {
    k.id = js_addr_token(a, family, v6only, ifindex);
    *s = k;
    nslots++;
  }
  last[which] = *s;
  return (u32)s->id;
}

// ---------- ss's column bookkeeping (text.ts Columns, fast.ts line()) ----------

static u8 disabled[NCOLS];
static i32 held_col, state_shown, fixed_bytes;
static i32 maxlen[NCOLS];
static u32 token_bytes;
static i32 pending;

static const char *const STATE_NAME[12] = {"UNKNOWN",    "ESTAB",     "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
                                           "TIME-WAIT",  "UNCONN",    "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};
static const u8 STATE_LEN[12] = {7, 5, 8, 8, 10, 10, 9, 6, 10, 8, 6, 7};
static const char *const NETID_NAME[3] = {"tcp", "udp", "raw"};
static const u8 HEADER_LEN[NCOLS] = {5, 5, 6, 6, 14, 4, 13, 4, 7, 0};

/** the shown columns as a bit set (bit c: column c hidden), and the column ss measures a line late */
EXPORT(configure) void configure(u32 hidden, i32 held_column) {
  fixed_bytes = 0;
  for (int c = 0; c < NCOLS; c++) {
    disabled[c] = (hidden >> c) & 1;
    if (!disabled[c]) fixed_bytes += 2;
  }
  if (!disabled[NETID]) fixed_bytes += 4;
  state_shown = !disabled[STATE];
  held_col = held_column;
}

EXPORT(maxlen_ptr) i32 *maxlen_ptr(void) {
  return maxlen;
}

EXPORT(lines_count) u32 lines_count(void) {
  return lines.n;
}

static u32 digits(u32 v) {
  u32 n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

static i32 even(i32 n) {
  return (n + 1) & ~1;
}

/** Columns.counted(): true when ss renders now */
static int counted(u32 bytes) {
  token_bytes += bytes;
  if (token_bytes < RENDER_AT) return 0;
  if (held_col != EXT && pending > maxlen[held_col]) maxlen[held_col] = pending;
  pending = 0;
  return 1;
}

/** the header's tokens measured (Columns.measure()) and its line kept */
EXPORT(header_line) void header_line(void) {
  Line *l = push(&lines);
  l->kind = HEADER_LINE;
  if (pending > maxlen[held_col]) maxlen[held_col] = pending;
  u32 bytes = 0;
  for (int c = 0; c < NCOLS; c++) {
    if (disabled[c]) continue;
    if (c != held_col && HEADER_LEN[c] > maxlen[c]) maxlen[c] = HEADER_LEN[c];
    bytes += 2 + even(HEADER_LEN[c]);
  }
  pending = disabled[held_col] ? 0 : HEADER_LEN[held_col];
  if (counted(bytes)) js_render();
}

static i32 port_len(u32 port) {
  return port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10000 ? 4 : 5;
}

/** fast.ts line() (numeric, without -p): one line kept and measured */
static void measure(const Line *l) {
  i32 sl = STATE_LEN[l->state < 12 ? l->state : 0];
  i32 ql = l->rq < 1000000 ? 6 : (i32)digits(l->rq);
  i32 wl = l->wq < 1000000 ? 6 : (i32)digits(l->wq);
  i32 al = tok_len[l->local], pl = tok_len[l->peer];
  i32 spl = port_len(l->sport), dpl = port_len(l->dport);
  i32 *ml = maxlen;
  if (ml[NETID] < 3) ml[NETID] = 3;
  if (sl > ml[STATE]) ml[STATE] = sl;
  if (ql > ml[RECVQ]) ml[RECVQ] = ql;
  if (wl > ml[SENDQ]) ml[SENDQ] = wl;
  if (al > ml[ADDR]) ml[ADDR] = al;
  if (spl > ml[SERV]) ml[SERV] = spl;
  if (pl > ml[RADDR]) ml[RADDR] = pl;
  if (dpl > ml[RSERV]) ml[RSERV] = dpl;
  u32 bytes = fixed_bytes + even(ql) + even(wl) + even(al) + even(spl) + even(pl) + even(dpl);
  if (state_shown) bytes += even(sl);
  if (pending > ml[held_col]) ml[held_col] = pending;
  pending = 0;
  if (counted(bytes)) js_render();
}

static void add(const Line *l) {
  Line *d = push(&lines);
  *d = *l;
  measure(d);
}

/** a line from JavaScript (a socket read from /proc/net): tokens by id */
EXPORT(add_line) void add_line(u32 kind, u32 state, u32 rq, u32 wq, u32 local, u32 sport, u32 peer, u32 dport) {
  Line l = {(u8)kind, (u8)state, (u16)sport, (u16)dport, 0, rq, wq, local, peer};
  add(&l);
}

// netstat's mode (netstat_configure), its lines written by ns_line() below the render
static u32 ns_on, ns_all, ns_listening, ns_wide, ns_count;
static int ns_shown(const u8 *m, u8 family, u32 kind);
static void ns_line(const Line *l);

// ---------- sock_diag datagrams (NetlinkSocket.walk, Inventory.checked, inetDiagCheck) ----------

static u8 rx[65536];
/** the payload bounds of the replies of the last datagram that failed inetDiagCheck */
static i32 bad[2 * (65536 / NLMSG_HDRLEN)];
static u32 nbad, nreplies;

EXPORT(rx_ptr) u8 *rx_ptr(void) {
  return rx;
}
EXPORT(bad_ptr) i32 *bad_ptr(void) {
  return bad;
}
EXPORT(bad_count) u32 bad_count(void) {
  return nbad;
}
EXPORT(replies) u32 replies(void) {
  return nreplies;
}

static u32 ld16(const u8 *p) {
  return p[0] | (p[1] << 8);
}

/** inetDiagCheck(): the fixed part whole, AF_INET or AF_INET6, every attribute inside the message */
static int checked(const u8 *m, u32 len) {
  if (len < MSG_LEN || (m[0] != 2 && m[0] != 10)) return 0;
  for (u32 o = MSG_LEN; len - o >= 4;) {
    u32 alen = ld16(m + o);
    if (alen < 4 || alen > len - o) return 0;
    o += (alen + 3) & ~3u;
    if (o > len) break;
  }
  return 1;
}

/** inetDiagV6only() == 1 */
static u8 v6only(const u8 *m, u32 len) {
  for (u32 o = MSG_LEN; len - o >= 4;) {
    u32 alen = ld16(m + o);
    if ((ld16(m + o + 2) & 0x3fff) == INET_DIAG_SKV6ONLY && alen >= 5) return m[o + 4] == 1;
    o += (alen + 3) & ~3u;
    if (o > len) break;
  }
  return 0;
}

static u32 be16(const u8 *p) {
  return (p[0] << 8) | p[1];
}

/**
 * The replies to `seq` in rx[0, n), a datagram of `kind`'s dump: each
 * checked one a line (an IPv6 one held until held_lines() when `split`:
 * the one walk of both families lists them after IPv4, as ss's two dumps
 * do), the others' bounds in bad. -1: the dump goes on; else the offset of
 * the message that ends it (NLMSG_DONE, an error, a malformed header), for
 * NetlinkSocket.walk() to read the outcome from.
 */
EXPORT(datagram) i32 datagram(u32 n, u32 seq, u32 kind, u32 split) {
  nbad = 0;
  nreplies = 0;
  for (u32 o = 0; o < n;) {
    u32 len = n - o >= NLMSG_HDRLEN ? ld32(rx + o) : 0;
    if (len < NLMSG_HDRLEN || len > n - o) return (i32)o;
    u32 type = ld16(rx + o + 4);
    u32 start = o + NLMSG_HDRLEN, end = o + len;
    u32 mseq = ld32(rx + o + 8);
    u32 step = (len + 3) & ~3u;
    u32 at = o;
    o += step < n - o ? step : n - o;
    if (mseq != seq) continue;
    if (type == 1) continue; /* NLMSG_NOOP */
    if (type == 2) {         /* NLMSG_ERROR: an ACK goes on, an error ends the dump */
      if (end - start >= 4 && ld32(rx + start) == 0) continue;
      return (i32)at;
    }
    if (type == 3 || type == 4) return (i32)at; /* NLMSG_DONE, NLMSG_OVERRUN */
    nreplies++;
    const u8 *m = rx + start;
    u32 mlen = end - start;
    if (!checked(m, mlen)) {
      bad[2 * nbad] = (i32)start;
      bad[2 * nbad + 1] = (i32)end;
      nbad++;
      continue;
    }
    u8 family = m[0];
    if (ns_on) {
      if (!ns_shown(m, family, kind)) continue;
      Line l = {(u8)kind, m[1], (u16)be16(m + 4), (u16)be16(m + 6), family == 10, ld32(m + 56), ld32(m + 60), address(m + 8, family, 0, 0, 0),
                address(m + 24, family, 0, 0, 1)};
      if (split && family == 10) *push(&held) = l;
      else ns_line(&l);
      continue;
    }
    u8 only = family == 10 && v6only(m, mlen);
    Line l;
    l.kind = (u8)kind;
    l.state = m[1];
    l.sport = (u16)be16(m + 4);
    l.dport = (u16)be16(m + 6);
    l.pad = 0;
    l.rq = ld32(m + 56);
    l.wq = ld32(m + 60);
    l.local = address(m + 8, family, only, ld32(m + 40), 0);
    l.peer = address(m + 24, family, only, 0, 1);
    if (split && family == 10) *push(&held) = l;
    else add(&l);
  }
  return -1;
}

/** the held IPv6 lines, listed now */
EXPORT(held_lines) void held_lines(void) {
  for (u32 i = 0; i < held.n; i++) {
    if (ns_on) ns_line(line_at(&held, i));
    else add(line_at(&held, i));
  }
  held.n = 0;
}

// ---------- render (fast.ts render(), numeric) ----------

/** per shown column, in order: the column, its delimiter's length, width (0: unpadded), right-aligned */
static i32 layout[1 + 4 * NCOLS];

EXPORT(layout_ptr) i32 *layout_ptr(void) {
  return layout;
}

#define OUT_SIZE 65536
static u8 out[OUT_SIZE];
static u32 pos;

static void flush(void) {
  if (pos) js_write(out, (i32)pos);
  pos = 0;
}

static u8 *spaces(u8 *p, i32 n) {
  for (; n > 0; n--) *p++ = ' ';
  return p;
}

static u8 *uint(u8 *p, u32 v) {
  u32 n = digits(v);
  for (u32 i = n; i > 0; i--) {
    p[i - 1] = (u8)('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

/** Table's cell: the delimiter, the token padded to the width (before it when right-aligned) */
static u8 *cell(u8 *p, const i32 *k, const u8 *text, i32 len) {
  i32 dlen = k[1], w = k[2];
  if (dlen) *p++ = ' ';
  i32 room = w ? w - dlen - len : 0;
  if (k[3]) p = spaces(p, room);
  copy(p, text, (u32)len);
  p += len;
  if (!k[3]) p = spaces(p, room);
  return p;
}

/** Recv-Q, Send-Q: the number padded to 6, in a column at least that */
static u8 *queue(u8 *p, const i32 *k, u32 v) {
  if (k[1]) *p++ = ' ';
  i32 inner = k[2] ? k[2] - k[1] : 0;
  u8 *from = p;
  p = uint(p, v);
  i32 n = (i32)(p - from);
  i32 w = inner > n ? inner : n;
  return spaces(p, (w > 6 ? w : 6) - n);
}

/** a port: '*' for 0, else its number, left-aligned */
static u8 *port(u8 *p, const i32 *k, u32 v) {
  if (k[1]) *p++ = ' ';
  i32 inner = k[2] ? k[2] - k[1] : 0;
  u8 *from = p;
  if (v == 0) *p++ = '*';
  else p = uint(p, v);
  return spaces(p, inner - (i32)(p - from));
}

/** every kept line written in layout's columns; then nothing kept, nothing measured */
EXPORT(render_lines) void render_lines(void) {
  i32 ncols = layout[0];
  // the longest a line can be: no token is longer than its column's measure
  u32 most = 32;
  for (i32 k = 0; k < ncols; k++) most += (u32)layout[3 + 4 * k] + (u32)maxlen[layout[1 + 4 * k]] + 1;
  for (u32 i = 0; i < lines.n; i++) {
    const Line *l = line_at(&lines, i);
    if (l->kind == HEADER_LINE) {
      flush();
      js_header();
      continue;
    }
    if (pos + most > OUT_SIZE) flush();
    u8 *p = out + pos;
    for (i32 k = 0; k < ncols; k++) {
      const i32 *c = &layout[1 + 4 * k];
      switch (c[0]) {
      case NETID: p = cell(p, c, (const u8 *)NETID_NAME[l->kind], 3); break;
      case STATE: {
        u32 s = l->state < 12 ? l->state : 0;
        p = cell(p, c, (const u8 *)STATE_NAME[s], STATE_LEN[s]);
        break;
      }
      case RECVQ: p = queue(p, c, l->rq); break;
      case SENDQ: p = queue(p, c, l->wq); break;
      case ADDR: p = cell(p, c, tok_ptr[l->local], tok_len[l->local]); break;
      case RADDR: p = cell(p, c, tok_ptr[l->peer], tok_len[l->peer]); break;
      case SERV: p = port(p, c, l->sport); break;
      case RSERV: p = port(p, c, l->dport); break;
      default: p = cell(p, c, (const u8 *)"", 0); break; /* PROC, EXT: empty without -p */
      }
    }
    *p++ = '\n';
    pos = (u32)(p - out);
  }
  flush();
  lines.n = 0;
  token_bytes = 0;
  pending = 0;
  for (int c = 0; c < NCOLS; c++) maxlen[c] = 0;
}

// ---------- netstat's Internet lines (netstat/fast.ts InetLines, numeric hosts and ports, no -e -e, -p or -o) ----------

/** netstat's mode from now on: -a, -l, -W */
EXPORT(netstat_configure) void netstat_configure(u32 all, u32 listening, u32 wide) {
  ns_on = 1;
  ns_all = all;
  ns_listening = listening;
  ns_wide = wide;
}

/** the lines written so far */
EXPORT(netstat_count) u32 netstat_count(void) {
  return ns_count;
}

/** what ns_line() has not written yet, written */
EXPORT(netstat_flush) void netstat_flush(void) {
  flush();
}

/** tcp_do_one: a remote port; udp_do_one, raw_do_one: a remote address; shown unless -l and -a disagree with it */
static int ns_shown(const u8 *m, u8 family, u32 kind) {
  if (ns_all) return 1;
  int remote = 0;
  if (kind == 0) remote = be16(m + 6) != 0;
  else
    for (u32 i = 0; i < (family == 2 ? 4u : 16u); i++) remote |= m[24 + i] != 0;
  return remote != (int)ns_listening;
}

static const char *const NS_TCP_STATE[12] = {"",          "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                                             "TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING"};
static const u8 NS_TCP_STATE_LEN[12] = {0, 11, 8, 8, 9, 9, 9, 5, 10, 8, 6, 7};

static u8 *bytes(u8 *p, const u8 *s, u32 n) {
  copy(p, s, n);
  return p + n;
}

/** addr_do_one's "addr:port" ('*' for port 0), cut to 22 without -W as endpoint() cuts it, padded to 23 */
static u8 *ns_endpoint(u8 *p, u32 tok, u32 port) {
  u8 *from = p;
  i32 hl = tok_len[tok], pl = port ? port_len(port) : 1;
  p = bytes(p, tok_ptr[tok], (u32)(!ns_wide && hl + pl > 22 ? 22 - pl : hl));
  *p++ = ':';
  if (port == 0) *p++ = '*';
  else p = uint(p, port);
  return spaces(p, 23 - (i32)(p - from));
}

/** a queue: %6ld */
static u8 *ns_queue(u8 *p, u32 v) {
  p = spaces(p, 6 - (i32)digits(v));
  p = uint(p, v);
  *p++ = ' ';
  return p;
}

/** one line of netstat's Internet table (inetLine, fast.ts message()) */
static void ns_line(const Line *l) {
  if (pos + 256 > OUT_SIZE) flush();
  u8 *p = out + pos;
  u32 kind = l->kind;
  p = bytes(p, (const u8 *)NETID_NAME[kind], 3);
  if (l->pad) *p++ = '6';
  p = spaces(p, (kind == 1 ? 5 : 4) - (l->pad ? 4 : 3) + (kind == 1 ? 1 : 2));
  p = ns_queue(p, l->rq);
  // /proc/net/tcp's tx_queue of a listener is write_seq - snd_una (0); sock_diag reports the backlog limit
  p = ns_queue(p, kind == 0 && l->state == 10 ? 0 : l->wq);
  p = ns_endpoint(p, l->local, l->sport);
  *p++ = ' ';
  p = ns_endpoint(p, l->peer, l->dport);
  *p++ = ' ';
  u8 *from = p;
  if (kind == 0) {
    if (l->state < 12) p = bytes(p, (const u8 *)NS_TCP_STATE[l->state], NS_TCP_STATE_LEN[l->state]);
  } else if (kind == 1) {
    if (l->state == 1) p = bytes(p, (const u8 *)"ESTABLISHED", 11);
    else if (l->state != 7) p = bytes(p, (const u8 *)"UNKNOWN", 7);
  } else p = uint(p, l->state);
  p = spaces(p, 11 - (i32)(p - from));
  *p++ = '\n';
  pos = (u32)(p - out);
  ns_count++;
}
