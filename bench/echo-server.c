/*
 * Reference echo server for bench/echo-load.mjs: one thread, epoll,
 * nonblocking sockets, one 16 KiB buffer per connection. While a reply is
 * not fully written the connection is not read (the same backpressure as
 * sockit's server), so memory is bounded by connections x 16 KiB.
 *   cc -O2 -o echo-server echo-server.c && ./echo-server 127.0.0.1 9877
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 16384

struct conn {
	int fd;
	size_t off, len; /* unwritten bytes are buf[off..len) */
	char buf[BUFSZ];
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void want(int ep, struct conn *c, unsigned events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	if (epoll_ctl(ep, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void drop(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* write what is pending; 1 when all of it went, 0 when the socket is full, -1 on error */
static int flush(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1, lfd, ep;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: echo-server addr port\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("bind");
	if (listen(lfd, 511) < 0)
		die("listen");
	if ((ep = epoll_create1(0)) < 0)
		die("epoll_create1");
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct conn *nc = malloc(sizeof *nc);
					if (nc == NULL)
						die("malloc");
					nc->fd = fd;
					nc->off = nc->len = 0;
					want(ep, nc, EPOLLIN, EPOLL_CTL_ADD);
				}
				continue;
			}
			if (c->len > 0) { /* EPOLLOUT: finish the reply, then read again */
				int r = flush(c);
				if (r < 0)
					drop(ep, c);
				else if (r > 0)
					want(ep, c, EPOLLIN, EPOLL_CTL_MOD);
				continue;
			}
			ssize_t got = read(c->fd, c->buf, BUFSZ);
			if (got == 0 || (got < 0 && errno != EAGAIN)) {
				drop(ep, c);
				continue;
			}
			if (got < 0)
				continue;
			c->len = (size_t)got;
			int r = flush(c);
			if (r < 0)
				drop(ep, c);
			else if (r == 0)
				want(ep, c, EPOLLOUT, EPOLL_CTL_MOD);
		}
	}
}
