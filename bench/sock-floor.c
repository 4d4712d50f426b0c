/* The book's TCP source and sink loops in C, for bench/sock.mjs: what the
 * same write(2)s and read(2)s cost with no language around them.
 * sourcetcp.c's loop is N blocking write(2)s of WLEN bytes, sinktcp.c's is
 * blocking read(2)s of RLEN bytes until EOF; nothing else.
 *   cc -O2 -o sock-floor sock-floor.c
 *   ./sock-floor sink RLEN     listens on 127.0.0.1, an ephemeral port:
 *                              prints "listening PORT", then after EOF
 *                              "sink BYTES SECONDS READS" (accept to EOF,
 *                              as sockit's sink times it)
 *   ./sock-floor source PORT N WLEN */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int sink(size_t rlen) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 5) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
    perror("sink: listen");
    return 1;
  }
  printf("listening %d\n", ntohs(a.sin_port));
  fflush(stdout);
  int c = accept(l, NULL, NULL);
  if (c < 0) {
    perror("sink: accept");
    return 1;
  }
  char *buf = malloc(rlen);
  long long bytes = 0, reads = 0;
  double t0 = now_s();
  for (;;) {
    ssize_t n = read(c, buf, rlen);
    if (n < 0) {
      perror("sink: read");
      return 1;
    }
    if (n == 0) break;
    bytes += n;
    reads++;
  }
  printf("sink %lld %.6f %lld\n", bytes, now_s() - t0, reads);
  return 0;
}

static int source(int port, long count, size_t wlen) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("source: connect");
    return 1;
  }
  char *buf = malloc(wlen);
  for (size_t i = 0; i < wlen; i++) buf[i] = ' ' + i % 95; /* the book's pattern */
  for (long i = 0; i < count; i++) {
    for (size_t off = 0; off < wlen;) {
      ssize_t n = write(s, buf + off, wlen - off);
      if (n < 0) {
        perror("source: write");
        return 1;
      }
      off += n;
    }
  }
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "sink")) return sink(strtoul(argv[2], NULL, 10));
  if (argc == 5 && !strcmp(argv[1], "source")) return source(atoi(argv[2]), atol(argv[3]), strtoul(argv[4], NULL, 10));
  fprintf(stderr, "usage: sock-floor sink RLEN | sock-floor source PORT N WLEN\n");
  return 2;
}
