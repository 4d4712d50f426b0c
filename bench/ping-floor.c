/* The kernel's share of a flood ping, for bench/ping.mjs: N echo round
 * trips to 127.0.0.1 on a raw socket set up as ping sets one up (ICMP_FILTER,
 * SO_TIMESTAMPNS), with nothing but sendto(2) and recvmsg(2) in the loop.
 * No ping, in any language, can do its round trips in less.
 *   cc -O2 -o ping-floor ping-floor.c && ./ping-floor 100000
 * prints the loop's wall time in milliseconds. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOL_RAW_ 255
#define ICMP_FILTER_ 1

static unsigned short cksum(const unsigned char *p, int n) {
  unsigned long s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += (unsigned)(p[i] << 8 | p[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (unsigned short)~s;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    perror("socket (needs CAP_NET_RAW)");
    return 2;
  }
  int on = 1;
  unsigned int only_echo_reply = ~1u; /* a set bit blocks that ICMP type */
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  setsockopt(fd, SOL_RAW_, ICMP_FILTER_, &only_echo_reply, sizeof only_echo_reply);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  unsigned char req[64] = { 8 }, in[256];
  char control[256];
  unsigned short id = (unsigned short)getpid();
  int got = 0;
  double t0 = now_ms();
  for (int seq = 0; seq < n; seq++) {
    req[2] = req[3] = 0;
    req[4] = id >> 8, req[5] = id & 0xff;
    req[6] = (seq >> 8) & 0xff, req[7] = seq & 0xff;
    unsigned short c = cksum(req, sizeof req);
    req[2] = c >> 8, req[3] = c & 0xff;
    if (sendto(fd, req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0) {
      perror("sendto");
      return 1;
    }
    for (;;) { /* blocking: the reply is usually queued before sendto returns */
      struct sockaddr_in from;
      struct iovec iov = { in, sizeof in };
      struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control, .msg_controllen = sizeof control };
      ssize_t r = recvmsg(fd, &m, 0);
      if (r < 0) {
        perror("recvmsg");
        return 1;
      }
      int hl = (in[0] & 15) * 4;
      if (r >= hl + 8 && in[hl] == 0 && in[hl + 4] == (id >> 8) && in[hl + 5] == (id & 0xff)) {
        got++;
        break;
      }
    }
  }
  double ms = now_ms() - t0;
  if (got != n) {
    fprintf(stderr, "ping-floor: %d of %d replies\n", got, n);
    return 1;
  }
  printf("%.1f\n", ms);
  return 0;
}
