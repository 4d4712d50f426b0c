// A C reference for `sockit sockopt`: UNP's checkopts (figure 7.3) written
// against the system headers, generated over sockit's option names. Each
// option is looked up by its header macro (#ifdef NAME, else "(undefined)"),
// so a wrong number or level in sockit's table shows up as a difference.
//
//   ./checkopts book        the book's socket per level
//   ./checkopts tcp6        every option on one socket type
//
// Values print in the book's formats (flag on/off, %d, linger, timeval) and,
// for the types the book lacks, in the formats sockit documents.
// Plain JS (types in checkopts-c.d.mts): bench/sockopt.mjs runs it too.

const PRELUDE = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/icmp.h>

static union val {
  int i_val;
  struct linger linger_val;
  struct timeval timeval_val;
  struct in_addr addr_val;
  struct ucred cred_val;
  struct icmp6_filter filter6_val;
  struct tcp_info info_val;
  unsigned char bytes[512];
} val;

static const char *pick;

static int open_kind(const char *k) {
  int d = k[3] == '4' ? AF_INET : AF_INET6;
  if (!strncmp(k, "tcp", 3)) return socket(d, SOCK_STREAM, 0);
  if (!strncmp(k, "udp", 3)) return socket(d, SOCK_DGRAM, 0);
  if (!strcmp(k, "raw4")) return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (!strcmp(k, "raw6")) return socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (!strcmp(k, "unix-stream")) return socket(AF_UNIX, SOCK_STREAM, 0);
  if (!strcmp(k, "unix-dgram")) return socket(AF_UNIX, SOCK_DGRAM, 0);
  fprintf(stderr, "unknown kind %s\n", k);
  exit(2);
}

/* UNP figure 7.3: the socket is chosen by level */
static const char *book_kind(int level) {
  switch (level) {
    case IPPROTO_IPV6: return "tcp6";
    case IPPROTO_ICMPV6: return "raw6";
    case SOL_RAW: return "raw4";
    default: return "tcp4";
  }
}

static const char *tcp_state(int s) {
  static const char *n[] = { "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
                             "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" };
  return s >= 0 && s < 13 ? n[s] : "?";
}

static const char *ca_state(int s) {
  static const char *n[] = { "Open", "Disorder", "CWR", "Recovery", "Loss" };
  return s >= 0 && s < 5 ? n[s] : "?";
}

enum { T_FLAG, T_INT, T_LINGER, T_TIMEVAL, T_IN_ADDR, T_STRING, T_BYTES, T_UCRED, T_ICMP6_FILTER, T_ICMP_FILTER, T_MTUINFO, T_TCP_INFO, T_OTHER };

static void show(int level, int level6, int name, int type) {
  const char *k = pick ? pick : book_kind(level);
  int fd = open_kind(k);
  if (fd < 0) { printf("socket error: %s\n", strerror(errno)); return; }
  if (level6 && k[3] == '6') level = IPPROTO_IPV6;
  socklen_t len = sizeof val;
  memset(&val, 0, sizeof val);
  if (getsockopt(fd, level, name, &val, &len) == -1) {
    printf("getsockopt error: %s\n", strerror(errno));
    close(fd);
    return;
  }
  char buf[64];
  printf("default = ");
  switch (type) {
    case T_FLAG: printf("%s\n", val.i_val == 0 ? "off" : "on"); break;
    case T_INT: printf("%d\n", val.i_val); break;
    case T_LINGER: printf("l_onoff = %d, l_linger = %d\n", val.linger_val.l_onoff, val.linger_val.l_linger); break;
    case T_TIMEVAL: printf("%d sec, %d usec\n", (int)val.timeval_val.tv_sec, (int)val.timeval_val.tv_usec); break;
    case T_IN_ADDR: printf("%s\n", inet_ntop(AF_INET, &val.addr_val, buf, sizeof buf)); break;
    case T_STRING: printf("%s\n", len == 0 || val.bytes[0] == 0 ? "(none)" : (char *)val.bytes); break;
    case T_BYTES:
      if (len == 0) { printf("(none)\n"); break; }
      printf("0x");
      for (socklen_t i = 0; i < len; i++) printf("%02x", val.bytes[i]);
      printf("\n");
      break;
    case T_UCRED: printf("pid = %d, uid = %u, gid = %u\n", val.cred_val.pid, val.cred_val.uid, val.cred_val.gid); break;
    case T_ICMP6_FILTER: case T_ICMP_FILTER: {
      int n = type == T_ICMP6_FILTER ? 32 : 4, zero = 1, ones = 1;
      for (int i = 0; i < n; i++) { zero &= val.bytes[i] == 0; ones &= val.bytes[i] == 0xff; }
      printf("%s\n", zero ? "pass all" : ones ? "block all" : "(some blocked)");
      break;
    }
    case T_MTUINFO: {
      struct ip6_mtuinfo *m = (struct ip6_mtuinfo *)val.bytes;
      printf("mtu = %u\n", m->ip6m_mtu);
      break;
    }
    case T_TCP_INFO: {
      struct tcp_info *t = &val.info_val;
      printf("state = %s, ca_state = %s, retransmits = %u, rto = %u usec, rtt = %u usec, rttvar = %u usec, "
             "snd_mss = %u, rcv_mss = %u, snd_cwnd = %u, total_retrans = %u\n",
             tcp_state(t->tcpi_state), ca_state(t->tcpi_ca_state), t->tcpi_retransmits, t->tcpi_rto, t->tcpi_rtt,
             t->tcpi_rttvar, t->tcpi_snd_mss, t->tcpi_rcv_mss, t->tcpi_snd_cwnd, t->tcpi_total_retrans);
      break;
    }
    default: printf("(%u bytes)\n", (unsigned)len);
  }
  close(fd);
}

int main(int argc, char **argv) {
  pick = argc > 1 && strcmp(argv[1], "book") ? argv[1] : NULL;
`;

const TYPES = {
  flag: 'T_FLAG',
  int: 'T_INT',
  linger: 'T_LINGER',
  timeval: 'T_TIMEVAL',
  in_addr: 'T_IN_ADDR',
  string: 'T_STRING',
  bytes: 'T_BYTES',
  ucred: 'T_UCRED',
  icmp6_filter: 'T_ICMP6_FILTER',
  icmp_filter: 'T_ICMP_FILTER',
  ip6_mtuinfo: 'T_MTUINFO',
  tcp_info: 'T_TCP_INFO',
};

/** @param {readonly { name: string, levelName: string, type: string, perFamily?: boolean }[]} options */
export function checkoptsSource(options) {
  const body = options.map((o) =>
    [
      `  printf("%s: ", "${o.name}");`,
      `#ifdef ${o.name}`,
      `  show(${o.levelName}, ${o.perFamily ? 1 : 0}, ${o.name}, ${TYPES[o.type] ?? 'T_OTHER'});`,
      '#else',
      '  printf("(undefined)\\n");',
      '#endif',
    ].join('\n'),
  );
  return `${PRELUDE}${body.join('\n')}\n  return 0;\n}\n`;
}
