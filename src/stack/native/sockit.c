/*
 * sockit native layer: the socket syscalls Node lacks, and nothing else.
 *
 * No policy lives here: every function is one syscall (or one uv_poll
 * handle) with its arguments checked and its result or errno returned.
 * Failures throw an Error carrying `code` ('EACCES'), `errno` (negative,
 * as Node's own errors do) and `syscall`.
 *
 * Addresses cross the boundary as Buffers holding a struct sockaddr, and
 * recvmsg reports into caller-owned typed arrays rather than building
 * objects: src/stack/native/index.ts turns both into typed values.
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>

#ifndef SO_TIMESTAMPNS_OLD
#define SO_TIMESTAMPNS_OLD SO_TIMESTAMPNS
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* ---------- error plumbing ---------- */

static const char *errno_name(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV)
    E(ENOTDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC) E(EPIPE) E(ERANGE)
    E(ENOSYS) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE)
    E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP)
    E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ENETRESET) E(ECONNABORTED) E(ECONNRESET)
    E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ESHUTDOWN) E(ETIMEDOUT)
    E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS)
    E(EPROTO) E(ENONET) E(ENOPKG) E(EREMOTEIO) E(ENODATA) E(EOVERFLOW)
    E(EILSEQ) E(ENAMETOOLONG) E(ELOOP) E(ENOTTY) E(ESPIPE) E(EROFS)
    E(ECANCELED) E(EKEYREJECTED) E(ENOMSG) E(EBADMSG) E(ETIME)
#undef E
    default: return NULL;
  }
}

/* Throw Error(`${syscall} ${CODE}: ${strerror}`) with code/errno/syscall. */
static napi_value throw_errno(napi_env env, const char *syscall_name, int e) {
  char msg[256];
  char codebuf[32];
  const char *code = errno_name(e);
  if (code == NULL) {
    snprintf(codebuf, sizeof codebuf, "E%d", e);
    code = codebuf;
  }
  snprintf(msg, sizeof msg, "%s %s: %s", syscall_name, code, strerror(e));
  napi_value err, msgv, codev, errnov, sysv;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msgv);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codev);
  napi_create_error(env, codev, msgv, &err);
  napi_create_int32(env, -e, &errnov);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &sysv);
  napi_set_named_property(env, err, "errno", errnov);
  napi_set_named_property(env, err, "syscall", sysv);
  napi_throw(env, err);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) return NULL;                               \
  } while (0)

#define ARGS(n)                                                       \
  size_t argc = (n);                                                  \
  napi_value argv[(n) > 0 ? (n) : 1];                                 \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* ---------- small value helpers ---------- */

static int get_int(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_uint(napi_env env, napi_value v, uint32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 1;
  return t == napi_undefined || t == napi_null;
}

static int get_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) != napi_ok || !ok) {
    /* accept any TypedArray view as well */
    bool ta = false;
    if (napi_is_typedarray(env, v, &ta) != napi_ok || !ta) return 0;
    napi_typedarray_type type;
    size_t n, off;
    napi_value ab;
    size_t elem = 1;
    if (napi_get_typedarray_info(env, v, &type, &n, data, &ab, &off) != napi_ok) return 0;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *len = n * elem;
    return 1;
  }
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

static napi_value make_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static void set_int(napi_env env, napi_value obj, const char *name, int64_t n) {
  napi_set_named_property(env, obj, name, make_int(env, n));
}

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------- addresses ---------- */

/* Addresses cross the boundary as Buffers holding a struct sockaddr
 * (sockaddr.ts encodes and decodes them). Returns the length, 0 on a thrown
 * error. */
static socklen_t to_sockaddr(napi_env env, napi_value v, struct sockaddr_storage *ss) {
  void *data;
  size_t len;
  if (!get_buffer(env, v, &data, &len)) {
    throw_type(env, "address must be a Buffer holding a struct sockaddr");
    return 0;
  }
  if (len < sizeof(sa_family_t) || len > sizeof *ss) {
    throw_errno(env, "sockaddr", EINVAL);
    return 0;
  }
  memset(ss, 0, sizeof *ss);
  memcpy(ss, data, len);
  return (socklen_t)len;
}

static napi_value sockaddr_buffer(napi_env env, const struct sockaddr_storage *ss, socklen_t len) {
  napi_value out;
  void *dst;
  if (len > sizeof *ss) len = sizeof *ss;
  napi_create_buffer_copy(env, len, ss, &dst, &out);
  return out;
}

/* ---------- socket lifecycle ---------- */

/* socket(domain, type, protocol): always nonblocking and close-on-exec. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, protocol;
  if (!get_int(env, argv[0], &domain) || !get_int(env, argv[1], &type) || !get_int(env, argv[2], &protocol))
    return throw_type(env, "socket(domain, type, protocol) takes three integers");
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket", errno);
  return make_int(env, fd);
}

/* socketpair(domain, type, protocol) -> [fd, fd] */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t domain, type, protocol;
  if (!get_int(env, argv[0], &domain) || !get_int(env, argv[1], &type) || !get_int(env, argv[2], &protocol))
    return throw_type(env, "socketpair(domain, type, protocol) takes three integers");
  int sv[2];
  if (socketpair(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol, sv) < 0)
    return throw_errno(env, "socketpair", errno);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, make_int(env, sv[0]));
  napi_set_element(env, arr, 1, make_int(env, sv[1]));
  return arr;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "close(fd)");
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr_storage ss;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "bind(fd, address)");
  socklen_t len = to_sockaddr(env, argv[1], &ss);
  if (len == 0) return NULL;
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) return throw_errno(env, "bind", errno);
  return NULL;
}

/* connect(fd, address) -> true when connected now, false when EINPROGRESS.
 * An AF_UNSPEC address dissolves a datagram association. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "connect(fd, address)");
  len = to_sockaddr(env, argv[1], &ss);
  if (len == 0) return NULL;
  napi_value result;
  int rc;
  do rc = connect(fd, (struct sockaddr *)&ss, len); while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    napi_get_boolean(env, true, &result);
    return result;
  }
  if (errno == EINPROGRESS) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  return throw_errno(env, "connect", errno);
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, backlog;
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &backlog)) return throw_type(env, "listen(fd, backlog)");
  if (listen(fd, backlog) < 0) return throw_errno(env, "listen", errno);
  return NULL;
}

/* accept(fd) -> { fd, address } or null when no connection is pending. */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "accept(fd)");
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int nfd;
  do nfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC); while (nfd < 0 && errno == EINTR);
  napi_value obj;
  if (nfd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_get_null(env, &obj);
      return obj;
    }
    return throw_errno(env, "accept", errno);
  }
  napi_create_object(env, &obj);
  set_int(env, obj, "fd", nfd);
  napi_set_named_property(env, obj, "address", sockaddr_buffer(env, &ss, len));
  return obj;
}

static napi_value name_common(napi_env env, napi_callback_info info, int peer) {
  ARGS(1);
  int32_t fd;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "getsockname(fd)");
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (rc < 0) return throw_errno(env, peer ? "getpeername" : "getsockname", errno);
  return sockaddr_buffer(env, &ss, len);
}

static napi_value js_getsockname(napi_env env, napi_callback_info info) { return name_common(env, info, 0); }
static napi_value js_getpeername(napi_env env, napi_callback_info info) { return name_common(env, info, 1); }

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, how;
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &how)) return throw_type(env, "shutdown(fd, how)");
  if (shutdown(fd, how) < 0) return throw_errno(env, "shutdown", errno);
  return NULL;
}

/* ---------- options ---------- */

/* setsockopt(fd, level, name, value): value is an integer (sent as int) or
 * a Buffer/TypedArray holding the struct. SO_ATTACH_FILTER takes the array of
 * struct sock_filter and gets its struct sock_fprog built here, since JS
 * cannot hand the kernel a pointer. */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) || !get_int(env, argv[2], &name))
    return throw_type(env, "setsockopt(fd, level, name, value)");
  void *data;
  size_t len;
  int ival;
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  if (t == napi_number) {
    int32_t v;
    napi_get_value_int32(env, argv[3], &v);
    ival = v;
    data = &ival;
    len = sizeof ival;
  } else if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, argv[3], &b);
    ival = b ? 1 : 0;
    data = &ival;
    len = sizeof ival;
  } else if (!get_buffer(env, argv[3], &data, &len)) {
    return throw_type(env, "setsockopt value must be a number, boolean or Buffer");
  }
  struct sock_fprog prog;
  if (level == SOL_SOCKET && name == SO_ATTACH_FILTER) {
    if (len % sizeof(struct sock_filter) != 0 || len == 0)
      return throw_errno(env, "setsockopt", EINVAL);
    prog.len = (unsigned short)(len / sizeof(struct sock_filter));
    prog.filter = (struct sock_filter *)data;
    data = &prog;
    len = sizeof prog;
  }
  if (setsockopt(fd, level, name, data, (socklen_t)len) < 0) return throw_errno(env, "setsockopt", errno);
  return NULL;
}

/* getsockopt(fd, level, name, size) -> Buffer of the length the kernel wrote. */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  uint32_t size = sizeof(int);
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &level) || !get_int(env, argv[2], &name))
    return throw_type(env, "getsockopt(fd, level, name, size)");
  if (!is_nullish(env, argv[3]) && !get_uint(env, argv[3], &size)) return throw_type(env, "getsockopt size");
  if (size > 65536) return throw_errno(env, "getsockopt", EINVAL);
  unsigned char stackbuf[512];
  unsigned char *buf = size <= sizeof stackbuf ? stackbuf : malloc(size);
  if (buf == NULL) return throw_errno(env, "getsockopt", ENOMEM);
  memset(buf, 0, size);
  socklen_t len = size;
  if (getsockopt(fd, level, name, buf, &len) < 0) {
    int e = errno;
    if (buf != stackbuf) free(buf);
    return throw_errno(env, "getsockopt", e);
  }
  napi_value out;
  void *dst;
  napi_create_buffer_copy(env, len, buf, &dst, &out);
  if (buf != stackbuf) free(buf);
  return out;
}

/* ---------- data ---------- */

/* The stamps argument of sendto and sendrecv: null/undefined (no stamps), or
 * a BigInt64Array of at least 2; false for anything else. */
static bool get_stamps(napi_env env, napi_value v, int64_t **stamps) {
  *stamps = NULL;
  if (is_nullish(env, v)) return true;
  napi_typedarray_type type;
  size_t n, off;
  void *p;
  napi_value ab;
  bool ta = false;
  napi_is_typedarray(env, v, &ta);
  if (!ta || napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok || type != napi_bigint64_array || n < 2) return false;
  *stamps = p;
  return true;
}

/* sendto(2) with MSG_NOSIGNAL, retried on EINTR; when stamps is given,
 * CLOCK_MONOTONIC and CLOCK_REALTIME read immediately before each try. */
static ssize_t stamped_sendto(int fd, const void *data, size_t len, int flags, const struct sockaddr_storage *ss, socklen_t alen, int64_t *stamps) {
  ssize_t rc;
  do {
    if (stamps) {
      stamps[0] = clock_ns(CLOCK_MONOTONIC);
      stamps[1] = clock_ns(CLOCK_REALTIME);
    }
    rc = sendto(fd, data, len, flags | MSG_NOSIGNAL, alen ? (const struct sockaddr *)ss : NULL, alen);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

/* sendto(fd, data, flags, address|null, stamps?) -> bytes sent, or -1 when
 * the socket would block. When stamps (a BigInt64Array of 2) is given,
 * CLOCK_MONOTONIC and CLOCK_REALTIME nanoseconds read immediately before the
 * syscall are stored in it. */
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, flags = 0;
  void *data;
  size_t len;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "sendto(fd, data, flags, address)");
  if (!get_buffer(env, argv[1], &data, &len)) return throw_type(env, "sendto data must be a Buffer");
  if (!is_nullish(env, argv[2]) && !get_int(env, argv[2], &flags)) return throw_type(env, "sendto flags");
  struct sockaddr_storage ss;
  socklen_t alen = 0;
  if (!is_nullish(env, argv[3])) {
    alen = to_sockaddr(env, argv[3], &ss);
    if (alen == 0) return NULL;
  }
  int64_t *stamps = NULL;
  if (!get_stamps(env, argv[4], &stamps)) return throw_type(env, "sendto stamps must be a BigInt64Array(2)");
  ssize_t rc = stamped_sendto(fd, data, len, flags, &ss, alen, stamps);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -1);
    return throw_errno(env, "sendto", errno);
  }
  return make_int(env, rc);
}

/* recv(2) and send(2) on a connected socket into or from buf[off, off+len):
 * the byte count (0 from recv: the peer's EOF), -1 when the call would
 * block; other errors throw. send adds MSG_NOSIGNAL: EPIPE throws instead. */
static bool get_span(napi_env env, napi_value *argv, int32_t *fd, char **p, size_t *n, int32_t *flags) {
  void *data;
  size_t len;
  uint32_t off, cnt;
  if (!get_int(env, argv[0], fd) || !get_buffer(env, argv[1], &data, &len) || !get_uint(env, argv[2], &off) ||
      !get_uint(env, argv[3], &cnt) || (size_t)off + cnt > len)
    return false;
  *flags = 0;
  if (!is_nullish(env, argv[4]) && !get_int(env, argv[4], flags)) return false;
  *p = (char *)data + off;
  *n = cnt;
  return true;
}

/* a byte count, -1 for EAGAIN, or the errno thrown */
static napi_value io_result(napi_env env, ssize_t rc, const char *name) {
  if (rc >= 0) return make_int(env, rc);
  if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -1);
  return throw_errno(env, name, errno);
}

/* recv(2) or send(2) of buffer[offset, offset+length) */
static napi_value span_io(napi_env env, napi_callback_info info, bool sending) {
  ARGS(5);
  int32_t fd, flags;
  char *p;
  size_t n;
  if (!get_span(env, argv, &fd, &p, &n, &flags))
    return throw_type(env, sending ? "send(fd, buffer, offset, length, flags)" : "recv(fd, buffer, offset, length, flags)");
  ssize_t rc;
  do rc = sending ? send(fd, p, n, flags | MSG_NOSIGNAL) : recv(fd, p, n, flags); while (rc < 0 && errno == EINTR);
  return io_result(env, rc, sending ? "send" : "recv");
}

static napi_value js_recv(napi_env env, napi_callback_info info) { return span_io(env, info, false); }
static napi_value js_send(napi_env env, napi_callback_info info) { return span_io(env, info, true); }

/* epoll(7): an interest set of the caller's own, to be watched as one
 * descriptor (a Poller on it) and read a batch at a time. epoll_wait fills
 * out (an Int32Array) with pairs (events, fd) and returns how many. */
static napi_value js_epoll_create(napi_env env, napi_callback_info info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return throw_errno(env, "epoll_create1", errno);
  return make_int(env, fd);
}

static napi_value js_epoll_ctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t epfd, op, fd;
  uint32_t events = 0;
  if (!get_int(env, argv[0], &epfd) || !get_int(env, argv[1], &op) || !get_int(env, argv[2], &fd) ||
      (!is_nullish(env, argv[3]) && !get_uint(env, argv[3], &events)))
    return throw_type(env, "epoll_ctl(epfd, op, fd, events)");
  struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)(uint32_t)fd };
  if (epoll_ctl(epfd, op, fd, &ev) < 0) return throw_errno(env, "epoll_ctl", errno);
  return NULL;
}

#define EPOLL_BATCH 256
static napi_value js_epoll_wait(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t epfd, timeout;
  void *data;
  size_t len;
  if (!get_int(env, argv[0], &epfd) || !get_buffer(env, argv[1], &data, &len) || !get_int(env, argv[2], &timeout))
    return throw_type(env, "epoll_wait(epfd, out, timeoutMs)");
  int max = (int)(len / 8);
  if (max > EPOLL_BATCH) max = EPOLL_BATCH;
  if (max < 1) return throw_type(env, "epoll_wait: out holds no (events, fd) pair");
  struct epoll_event evs[EPOLL_BATCH];
  int n;
  do n = epoll_wait(epfd, evs, max, timeout); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "epoll_wait", errno);
  int32_t *out = data;
  for (int i = 0; i < n; i++) {
    out[2 * i] = (int32_t)evs[i].events;
    out[2 * i + 1] = (int32_t)evs[i].data.u64;
  }
  return make_int(env, n);
}

/* recvmsg reports through caller-owned arrays, so no objects are built on
 * the hot path. meta is an Int32Array of M_LEN slots, -1 where absent: */
enum {
  M_FLAGS, M_NAMELEN, M_TTL, M_TOS, M_HOPLIMIT, M_TCLASS, M_HAS_TS,
  M_PKT_IFINDEX, M_PKT_ADDRLEN,
  M_EE, M_EE_ERRNO, M_EE_ORIGIN, M_EE_TYPE, M_EE_CODE, M_EE_INFO, M_EE_DATA, M_EE_OFFLEN,
  M_CRED, M_CRED_PID, M_CRED_UID, M_CRED_GID,
  M_NRIGHTS, M_RIGHTS0,
  /* PACKET_AUXDATA (struct tpacket_auxdata) on AF_PACKET sockets */
  M_AUX = M_RIGHTS0 + 8, M_AUX_STATUS, M_AUX_LEN, M_AUX_SNAPLEN, M_AUX_MAC, M_AUX_NET,
  M_AUX_VLAN_TCI, M_AUX_VLAN_TPID,
  M_LEN
};
#define M_RIGHTS_MAX 8
/* addrs is a Buffer of ADDRS_LEN: the source sockaddr, the offender
 * sockaddr, the pktinfo destination address, the pktinfo spec_dst (IPv4) */
#define A_NAME 0
#define A_OFFENDER 128
#define A_PKTADDR 256
#define A_SPECDST 272
#define ADDRS_LEN 288

static void parse_cmsg(struct cmsghdr *c, int32_t *meta, unsigned char *addrs, int64_t *ts) {
  const unsigned char *d = CMSG_DATA(c);
  size_t dlen = c->cmsg_len - CMSG_LEN(0);
  int is_ee = 0;
  if (c->cmsg_level == SOL_SOCKET) {
    if (c->cmsg_type == SO_TIMESTAMPNS_OLD && dlen >= sizeof(struct timespec)) {
      struct timespec t;
      memcpy(&t, d, sizeof t);
      *ts = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
      meta[M_HAS_TS] = 1;
    } else if (c->cmsg_type == SO_TIMESTAMP_OLD && dlen >= sizeof(struct timeval)) {
      struct timeval t;
      memcpy(&t, d, sizeof t);
      *ts = (int64_t)t.tv_sec * 1000000000LL + (int64_t)t.tv_usec * 1000;
      meta[M_HAS_TS] = 1;
    } else if (c->cmsg_type == SCM_CREDENTIALS && dlen >= sizeof(struct ucred)) {
      struct ucred cr;
      memcpy(&cr, d, sizeof cr);
      meta[M_CRED] = 1;
      meta[M_CRED_PID] = cr.pid;
      meta[M_CRED_UID] = (int32_t)cr.uid;
      meta[M_CRED_GID] = (int32_t)cr.gid;
    } else if (c->cmsg_type == SCM_RIGHTS) {
      size_t n = dlen / sizeof(int);
      for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, d + i * sizeof(int), sizeof fd);
        if (meta[M_NRIGHTS] < M_RIGHTS_MAX) meta[M_RIGHTS0 + meta[M_NRIGHTS]++] = fd;
        else close(fd); /* no slot to report it in: do not leak it */
      }
    }
  } else if (c->cmsg_level == IPPROTO_IP) {
    if (c->cmsg_type == IP_TTL || c->cmsg_type == IP_TOS) {
      int v = 0;
      if (dlen >= sizeof(int)) memcpy(&v, d, sizeof v);
      else if (dlen >= 1) v = d[0];
      meta[c->cmsg_type == IP_TTL ? M_TTL : M_TOS] = v;
    } else if (c->cmsg_type == IP_PKTINFO && dlen >= sizeof(struct in_pktinfo)) {
      struct in_pktinfo pi;
      memcpy(&pi, d, sizeof pi);
      meta[M_PKT_IFINDEX] = pi.ipi_ifindex;
      meta[M_PKT_ADDRLEN] = 4;
      memcpy(addrs + A_PKTADDR, &pi.ipi_addr, 4);
      memcpy(addrs + A_SPECDST, &pi.ipi_spec_dst, 4);
    } else if (c->cmsg_type == IP_RECVERR) {
      is_ee = 1;
    }
  } else if (c->cmsg_level == IPPROTO_IPV6) {
    if ((c->cmsg_type == IPV6_HOPLIMIT || c->cmsg_type == IPV6_TCLASS) && dlen >= sizeof(int)) {
      int v;
      memcpy(&v, d, sizeof v);
      meta[c->cmsg_type == IPV6_HOPLIMIT ? M_HOPLIMIT : M_TCLASS] = v;
    } else if (c->cmsg_type == IPV6_PKTINFO && dlen >= sizeof(struct in6_pktinfo)) {
      struct in6_pktinfo pi;
      memcpy(&pi, d, sizeof pi);
      meta[M_PKT_IFINDEX] = pi.ipi6_ifindex;
      meta[M_PKT_ADDRLEN] = 16;
      memcpy(addrs + A_PKTADDR, &pi.ipi6_addr, 16);
    } else if (c->cmsg_type == IPV6_RECVERR) {
      is_ee = 1;
    }
  } else if (c->cmsg_level == SOL_PACKET) {
    if (c->cmsg_type == PACKET_AUXDATA && dlen >= sizeof(struct tpacket_auxdata)) {
      struct tpacket_auxdata a;
      memcpy(&a, d, sizeof a);
      meta[M_AUX] = 1;
      meta[M_AUX_STATUS] = (int32_t)a.tp_status;
      meta[M_AUX_LEN] = (int32_t)a.tp_len;
      meta[M_AUX_SNAPLEN] = (int32_t)a.tp_snaplen;
      meta[M_AUX_MAC] = a.tp_mac;
      meta[M_AUX_NET] = a.tp_net;
      meta[M_AUX_VLAN_TCI] = a.tp_vlan_tci;
      meta[M_AUX_VLAN_TPID] = a.tp_vlan_tpid;
    }
  }
  if (is_ee && dlen >= sizeof(struct sock_extended_err)) {
    struct sock_extended_err e;
    memcpy(&e, d, sizeof e);
    meta[M_EE] = 1;
    meta[M_EE_ERRNO] = (int32_t)e.ee_errno;
    meta[M_EE_ORIGIN] = e.ee_origin;
    meta[M_EE_TYPE] = e.ee_type;
    meta[M_EE_CODE] = e.ee_code;
    meta[M_EE_INFO] = (int32_t)e.ee_info;
    meta[M_EE_DATA] = (int32_t)e.ee_data;
    /* SO_EE_OFFENDER: the sockaddr that follows the struct */
    size_t off = sizeof e, n = dlen > off ? dlen - off : 0;
    if (n > 128) n = 128;
    if (n >= sizeof(sa_family_t) && ((const struct sockaddr *)(d + off))->sa_family != AF_UNSPEC) {
      memcpy(addrs + A_OFFENDER, d + off, n);
      meta[M_EE_OFFLEN] = (int32_t)n;
    }
  }
}

/* One nonblocking recvmsg(2) filling meta, addrs and ts as js_recvmsg
 * documents; -1 with errno set when it fails (EAGAIN: nothing queued). */
static ssize_t recv_into(int fd, void *data, size_t len, int flags, int32_t *meta, unsigned char *addrs, int64_t *ts) {
  union {
    char buf[1024];
    struct cmsghdr align;
  } cbuf;
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = {
    .msg_name = addrs + A_NAME, .msg_namelen = 128,
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf,
  };
  ssize_t rc;
  do rc = recvmsg(fd, &msg, flags | MSG_DONTWAIT); while (rc < 0 && errno == EINTR);
  if (rc < 0) return -1;
  for (int i = 0; i < M_LEN; i++) meta[i] = -1;
  meta[M_FLAGS] = msg.msg_flags;
  meta[M_NAMELEN] = (int32_t)msg.msg_namelen;
  meta[M_HAS_TS] = meta[M_EE] = meta[M_CRED] = meta[M_NRIGHTS] = meta[M_PKT_ADDRLEN] = meta[M_EE_OFFLEN] = meta[M_AUX] = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) parse_cmsg(c, meta, addrs, ts);
  return rc;
}

/* recvmsg(fd, buffer, flags, meta, addrs, ts) -> bytes received (the
 * datagram's real length with MSG_TRUNC), or -1 when nothing is queued.
 * MSG_DONTWAIT is always added; MSG_CMSG_CLOEXEC is the caller's to pass
 * (AF_PACKET sockets refuse it with EINVAL).
 * meta: Int32Array(M_LEN); addrs: Buffer(ADDRS_LEN); ts: BigInt64Array(1). */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  ARGS(6);
  int32_t fd, flags = 0;
  void *data, *mp, *ap, *tp;
  size_t len, mlen, alen, tlen;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "recvmsg(fd, buffer, flags, meta, addrs, ts)");
  if (!get_buffer(env, argv[1], &data, &len)) return throw_type(env, "recvmsg buffer must be a Buffer");
  if (!is_nullish(env, argv[2]) && !get_int(env, argv[2], &flags)) return throw_type(env, "recvmsg flags");
  if (!get_buffer(env, argv[3], &mp, &mlen) || mlen < M_LEN * sizeof(int32_t)) return throw_type(env, "recvmsg meta must be an Int32Array(38)");
  if (!get_buffer(env, argv[4], &ap, &alen) || alen < ADDRS_LEN) return throw_type(env, "recvmsg addrs must be a Buffer(288)");
  if (!get_buffer(env, argv[5], &tp, &tlen) || tlen < sizeof(int64_t)) return throw_type(env, "recvmsg ts must be a BigInt64Array(1)");
  ssize_t rc = recv_into(fd, data, len, flags, mp, ap, tp);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -1);
    return throw_errno(env, "recvmsg", errno);
  }
  return make_int(env, rc);
}

/* sendrecv with its arguments bound once, for a loop that sends the same
 * buffer to the same place over and over (flood ping): converting eleven
 * arguments on every crossing costs more than the crossing itself.
 * sendrecvBind(fd, data, flags, address|null, stamps|null, buffer, rflags,
 * meta, addrs, ts, timeoutMs) checks them as sendrecv does and returns a
 * handle holding the buffers (an External: they live while it does; the
 * address is copied). sendrecvBound(handle) is then sendrecv with them:
 * the same syscalls, the same results. The buffers' bytes are read at each
 * call, so the caller rewrites data in place between calls. */
/* the buffers a handle holds: data, stamps, buffer, meta, addrs, ts */
enum { B_REFS = 6 };
typedef struct {
  int32_t fd, flags, rflags, timeout;
  void *data, *rdata;
  size_t len, rlen;
  struct sockaddr_storage ss;
  socklen_t salen;
  int64_t *stamps;
  int32_t *meta;
  unsigned char *addrs;
  int64_t *ts;
  napi_ref refs[B_REFS];
} bound_t;

static void bound_finalize(napi_env env, void *data, void *hint) {
  bound_t *b = data;
  for (int i = 0; i < B_REFS; i++)
    if (b->refs[i]) napi_delete_reference(env, b->refs[i]);
  free(b);
}

/* the sendrecv of sendrecvBound and of js_sendrecv */
static ssize_t do_sendrecv(const bound_t *b) {
  ssize_t rc = stamped_sendto(b->fd, b->data, b->len, b->flags, &b->ss, b->salen, b->stamps);
  if (rc < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -3;
  rc = recv_into(b->fd, b->rdata, b->rlen, b->rflags, b->meta, b->addrs, b->ts);
  if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && b->timeout > 0) {
    struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
    /* a signal (EINTR) or a pending error (POLLERR) goes back to the caller's loop */
    if (poll(&pfd, 1, b->timeout) == 1 && (pfd.revents & (POLLIN | POLLERR)) == POLLIN) rc = recv_into(b->fd, b->rdata, b->rlen, b->rflags, b->meta, b->addrs, b->ts);
  }
  return rc < 0 ? -1 : rc;
}

/* sendrecv's eleven arguments into b; false with an exception pending */
static bool sendrecv_args(napi_env env, napi_value *argv, bound_t *b) {
  void *mp, *ap, *tp;
  size_t mlen, alen, tlen;
  b->flags = b->rflags = b->timeout = 0;
  b->salen = 0;
  if (!get_int(env, argv[0], &b->fd)) return throw_type(env, "sendrecv(fd, data, flags, address, stamps, buffer, rflags, meta, addrs, ts, timeoutMs)"), false;
  if (!get_buffer(env, argv[1], &b->data, &b->len)) return throw_type(env, "sendrecv data must be a Buffer"), false;
  if (!is_nullish(env, argv[2]) && !get_int(env, argv[2], &b->flags)) return throw_type(env, "sendrecv flags"), false;
  if (!is_nullish(env, argv[3])) {
    b->salen = to_sockaddr(env, argv[3], &b->ss);
    if (b->salen == 0) return false;
  }
  if (!get_stamps(env, argv[4], &b->stamps)) return throw_type(env, "sendrecv stamps must be a BigInt64Array(2)"), false;
  if (!get_buffer(env, argv[5], &b->rdata, &b->rlen)) return throw_type(env, "sendrecv buffer must be a Buffer"), false;
  if (!is_nullish(env, argv[6]) && !get_int(env, argv[6], &b->rflags)) return throw_type(env, "sendrecv rflags"), false;
  if (!get_buffer(env, argv[7], &mp, &mlen) || mlen < M_LEN * sizeof(int32_t)) return throw_type(env, "sendrecv meta must be an Int32Array(38)"), false;
  if (!get_buffer(env, argv[8], &ap, &alen) || alen < ADDRS_LEN) return throw_type(env, "sendrecv addrs must be a Buffer(288)"), false;
  if (!get_buffer(env, argv[9], &tp, &tlen) || tlen < sizeof(int64_t)) return throw_type(env, "sendrecv ts must be a BigInt64Array(1)"), false;
  if (!is_nullish(env, argv[10]) && !get_int(env, argv[10], &b->timeout)) return throw_type(env, "sendrecv timeoutMs"), false;
  b->meta = mp;
  b->addrs = ap;
  b->ts = tp;
  return true;
}

static napi_value sendrecv_result(napi_env env, ssize_t rc) {
  if (rc == -3) return throw_errno(env, "sendto", errno);
  return make_int(env, rc);
}

/* sendrecv(fd, data, flags, address|null, stamps|null, buffer, rflags, meta,
 * addrs, ts, timeoutMs) -> bytes received, -1 when nothing came within
 * timeoutMs (or the receive failed: a pending error stays for the error
 * queue's reader), -2 when the send would block. sendto(2) as js_sendto
 * (stamps, MSG_NOSIGNAL; its errors throw), then recvmsg(2) as js_recvmsg,
 * and when nothing is queued yet one poll(2) of up to timeoutMs (0: none)
 * and one more recvmsg. One crossing into C for a round trip: for loops
 * that own their socket (flood ping), where a reply on loopback is queued
 * before sendto returns. */
static napi_value js_sendrecv(napi_env env, napi_callback_info info) {
  ARGS(11);
  bound_t b;
  if (!sendrecv_args(env, argv, &b)) return NULL;
  return sendrecv_result(env, do_sendrecv(&b));
}

static napi_value js_sendrecv_bind(napi_env env, napi_callback_info info) {
  ARGS(11);
  bound_t *b = calloc(1, sizeof *b);
  if (!b) return throw_errno(env, "sendrecvBind", ENOMEM);
  if (!sendrecv_args(env, argv, b)) {
    free(b);
    return NULL;
  }
  static const int which[B_REFS] = { 1, 4, 5, 7, 8, 9 };
  for (int i = 0; i < B_REFS; i++)
    if (!is_nullish(env, argv[which[i]]) && napi_create_reference(env, argv[which[i]], 1, &b->refs[i]) != napi_ok) {
      bound_finalize(env, b, NULL);
      return throw_errno(env, "sendrecvBind", ENOMEM);
    }
  napi_value out;
  if (napi_create_external(env, b, bound_finalize, NULL, &out) != napi_ok) {
    bound_finalize(env, b, NULL);
    return NULL;
  }
  return out;
}

static napi_value js_sendrecv_bound(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok) return throw_type(env, "sendrecvBound(handle): a handle from sendrecvBind");
  const bound_t *b = p;
  return sendrecv_result(env, do_sendrecv(b));
}

/* ---------- readiness on Node's loop ---------- */

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref self;      /* strong while polling, so the object outlives the loop's use */
  napi_ref callback;
  napi_async_context async;
  int fd;
  int active;
  int closing;
  int finalized;
} poller_t;

static void poller_closed(uv_handle_t *h) {
  poller_t *p = h->data;
  if (p->finalized) free(p);
  else p->closing = 2;  /* fully closed; finalizer frees */
}

static void poller_cb(uv_poll_t *h, int status, int events) {
  poller_t *p = h->data;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value self, cb, args[2], result;
  napi_get_reference_value(env, p->self, &self);
  napi_get_reference_value(env, p->callback, &cb);
  if (status < 0) {
    napi_value code, msg;
    napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &args[0]);
  } else {
    napi_get_null(env, &args[0]);
  }
  napi_create_int32(env, events, &args[1]);
  if (self && cb) napi_make_callback(env, p->async, self, cb, 2, args, &result);
  napi_close_handle_scope(env, scope);
}

static void poller_finalize(napi_env env, void *data, void *hint) {
  poller_t *p = data;
  p->finalized = 1;
  napi_delete_reference(env, p->callback);
  napi_delete_reference(env, p->self);
  napi_async_destroy(env, p->async);
  if (p->closing == 0) {
    p->closing = 1;
    uv_close((uv_handle_t *)&p->handle, poller_closed);
  } else if (p->closing == 2) {
    free(p);
  }
}

static napi_value poller_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  int32_t fd;
  napi_valuetype t;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "new Poller(fd, callback)");
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) return throw_type(env, "Poller callback must be a function");
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, "calloc", ENOMEM);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init_socket(loop, &p->handle, fd);
  if (rc < 0) {
    free(p);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  p->handle.data = p;
  p->env = env;
  p->fd = fd;
  napi_value name;
  napi_create_string_utf8(env, "sockit:poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &p->async);
  napi_create_reference(env, argv[1], 1, &p->callback);
  napi_wrap(env, self, p, poller_finalize, NULL, &p->self);  /* weak (count 0) */
  return self;
}

static poller_t *poller_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &p) != napi_ok) return NULL;
  return p;
}

/* start(events): UV_READABLE=1, UV_WRITABLE=2, UV_DISCONNECT=4, UV_PRIORITIZED=8 */
static napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  poller_t *p = poller_of(env, info, &argc, argv);
  int32_t events;
  if (!p || !get_int(env, argv[0], &events)) return throw_type(env, "poller.start(events)");
  if (p->closing) return throw_errno(env, "uv_poll_start", EBADF);
  int rc = uv_poll_start(&p->handle, events, poller_cb);
  if (rc < 0) return throw_errno(env, "uv_poll_start", -rc);
  if (!p->active) {
    uint32_t n;
    napi_reference_ref(env, p->self, &n);
    p->active = 1;
  }
  return NULL;
}

static void poller_deactivate(napi_env env, poller_t *p) {
  if (p->active) {
    uint32_t n;
    napi_reference_unref(env, p->self, &n);
    p->active = 0;
  }
}

static napi_value poller_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  poller_t *p = poller_of(env, info, &argc, NULL);
  if (!p) return throw_type(env, "poller.stop()");
  if (!p->closing) uv_poll_stop(&p->handle);
  poller_deactivate(env, p);
  return NULL;
}

/* close(): stop and release the handle; the fd itself is not closed. */
static napi_value poller_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  poller_t *p = poller_of(env, info, &argc, NULL);
  if (!p) return throw_type(env, "poller.close()");
  if (!p->closing) {
    p->closing = 1;
    uv_poll_stop(&p->handle);
    uv_close((uv_handle_t *)&p->handle, poller_closed);
  }
  poller_deactivate(env, p);
  return NULL;
}

static napi_value poller_ref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  poller_t *p = poller_of(env, info, &argc, argv);
  bool on = true;
  if (!p) return throw_type(env, "poller.ref(on)");
  if (argc > 0) napi_get_value_bool(env, argv[0], &on);
  if (!p->closing) {
    if (on) uv_ref((uv_handle_t *)&p->handle);
    else uv_unref((uv_handle_t *)&p->handle);
  }
  return NULL;
}

/* ---------- name resolution (libc, on the threadpool) ---------- */

/* getaddrinfo(3) and getnameinfo(3) as Promises. Node's dns module cannot
 * return the canonical name (AI_CANONNAME) nor getnameinfo's numeric
 * fallback, and tools print both. Failures reject with an Error whose code
 * is the EAI_* name and whose message is gai_strerror(3). */

static const char *eai_name(int rc) {
  switch (rc) {
#define G(x) case x: return #x;
    G(EAI_BADFLAGS) G(EAI_NONAME) G(EAI_AGAIN) G(EAI_FAIL) G(EAI_FAMILY)
    G(EAI_SOCKTYPE) G(EAI_SERVICE) G(EAI_MEMORY) G(EAI_SYSTEM) G(EAI_OVERFLOW)
#ifdef EAI_NODATA
    G(EAI_NODATA)
#endif
#ifdef EAI_ADDRFAMILY
    G(EAI_ADDRFAMILY)
#endif
#undef G
    default: return "EAI_UNKNOWN";
  }
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int is_gai;
  /* getaddrinfo */
  char host[1026];
  char service[NI_MAXSERV];
  int has_host, has_service;
  int family, socktype, protocol, flags;
  struct addrinfo *res;
  /* getnameinfo */
  struct sockaddr_storage ss;
  socklen_t sslen;
  char name[NI_MAXHOST];
  char serv[NI_MAXSERV];
  int rc, sys_errno;
} resolve_req;

static void resolve_execute(napi_env env, void *data) {
  resolve_req *r = data;
  if (r->is_gai) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = r->family;
    hints.ai_socktype = r->socktype;
    hints.ai_protocol = r->protocol;
    hints.ai_flags = r->flags;
    r->rc = getaddrinfo(r->has_host ? r->host : NULL, r->has_service ? r->service : NULL, &hints, &r->res);
  } else {
    r->rc = getnameinfo((struct sockaddr *)&r->ss, r->sslen, r->name, sizeof r->name, r->serv, sizeof r->serv, r->flags);
  }
  r->sys_errno = errno;
}

static void resolve_complete(napi_env env, napi_status status, void *data) {
  resolve_req *r = data;
  napi_value out;
  if (r->rc != 0) {
    napi_value err, msg, code;
    const char *text = r->rc == EAI_SYSTEM ? strerror(r->sys_errno) : gai_strerror(r->rc);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, eai_name(r->rc), NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &err);
    set_int(env, err, "errno", r->rc);
    napi_value sysv;
    napi_create_string_utf8(env, r->is_gai ? "getaddrinfo" : "getnameinfo", NAPI_AUTO_LENGTH, &sysv);
    napi_set_named_property(env, err, "syscall", sysv);
    napi_reject_deferred(env, r->deferred, err);
  } else if (r->is_gai) {
    napi_value list, entries, cn;
    uint32_t i = 0;
    napi_create_object(env, &out);
    napi_create_array(env, &list);
    napi_create_array(env, &entries);
    if (r->res && r->res->ai_canonname)
      napi_create_string_utf8(env, r->res->ai_canonname, NAPI_AUTO_LENGTH, &cn);
    else
      napi_get_null(env, &cn);
    napi_set_named_property(env, out, "canonname", cn);
    for (struct addrinfo *ai = r->res; ai; ai = ai->ai_next) {
      struct sockaddr_storage ss;
      memset(&ss, 0, sizeof ss);
      memcpy(&ss, ai->ai_addr, ai->ai_addrlen <= sizeof ss ? ai->ai_addrlen : sizeof ss);
      napi_value addr = sockaddr_buffer(env, &ss, ai->ai_addrlen), entry;
      napi_create_object(env, &entry);
      set_int(env, entry, "socktype", ai->ai_socktype);
      set_int(env, entry, "protocol", ai->ai_protocol);
      napi_set_named_property(env, entry, "address", addr);
      napi_set_element(env, entries, i, entry);
      napi_set_element(env, list, i++, addr);
    }
    napi_set_named_property(env, out, "addresses", list);
    napi_set_named_property(env, out, "entries", entries);
    napi_resolve_deferred(env, r->deferred, out);
  } else {
    napi_value host, serv;
    napi_create_object(env, &out);
    napi_create_string_utf8(env, r->name, NAPI_AUTO_LENGTH, &host);
    napi_create_string_utf8(env, r->serv, NAPI_AUTO_LENGTH, &serv);
    napi_set_named_property(env, out, "host", host);
    napi_set_named_property(env, out, "service", serv);
    napi_resolve_deferred(env, r->deferred, out);
  }
  if (r->res) freeaddrinfo(r->res);
  napi_delete_async_work(env, r->work);
  free(r);
}

static napi_value queue_resolve(napi_env env, resolve_req *r, const char *what) {
  napi_value promise, name;
  napi_create_promise(env, &r->deferred, &promise);
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, resolve_execute, resolve_complete, r, &r->work);
  napi_queue_async_work(env, r->work);
  return promise;
}

/* getaddrinfo(host, family, socktype, flags[, service[, protocol]]) ->
 * Promise<{ canonname, addresses: Buffer[], entries: { socktype, protocol, address }[] }>;
 * host or service may be null (getaddrinfo's NULL node or service). */
static int get_opt_string(napi_env env, napi_value v, char *buf, size_t size, int *has) {
  size_t len;
  *has = 0;
  if (is_nullish(env, v)) return 1;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok || len >= size - 1) return 0;
  *has = 1;
  return 1;
}

static napi_value js_getaddrinfo(napi_env env, napi_callback_info info) {
  ARGS(6);
  resolve_req *r = calloc(1, sizeof *r);
  if (!r) return throw_errno(env, "calloc", ENOMEM);
  int32_t family = 0, socktype = 0, flags = 0, protocol = 0;
  if (!get_opt_string(env, argv[0], r->host, sizeof r->host, &r->has_host) ||
      !get_int(env, argv[1], &family) || !get_int(env, argv[2], &socktype) || !get_int(env, argv[3], &flags) ||
      (argc > 4 && !get_opt_string(env, argv[4], r->service, sizeof r->service, &r->has_service)) ||
      (argc > 5 && !is_nullish(env, argv[5]) && !get_int(env, argv[5], &protocol))) {
    free(r);
    return throw_type(env, "getaddrinfo(host, family, socktype, flags[, service[, protocol]])");
  }
  r->is_gai = 1;
  r->family = family;
  r->socktype = socktype;
  r->protocol = protocol;
  r->flags = flags;
  return queue_resolve(env, r, "sockit:getaddrinfo");
}

/* getnameinfo(sockaddr, flags) -> Promise<{ host, service }> */
static napi_value js_getnameinfo(napi_env env, napi_callback_info info) {
  ARGS(2);
  resolve_req *r = calloc(1, sizeof *r);
  if (!r) return throw_errno(env, "calloc", ENOMEM);
  int32_t flags = 0;
  r->sslen = to_sockaddr(env, argv[0], &r->ss);
  if (r->sslen == 0) {
    free(r);
    return NULL;
  }
  if (!get_int(env, argv[1], &flags)) {
    free(r);
    return throw_type(env, "getnameinfo(sockaddr, flags)");
  }
  r->flags = flags;
  return queue_resolve(env, r, "sockit:getnameinfo");
}

/* ---------- shared mappings (packet rings) ---------- */

/* mmap(fd, length) -> ArrayBuffer over mmap(NULL, length, PROT_READ |
 * PROT_WRITE, MAP_SHARED, fd, 0), as a TPACKET ring is mapped (packet(7)).
 * munmap(buffer) unmaps it and detaches the ArrayBuffer, so JS can no
 * longer reach the memory; a mapping never unmapped is unmapped when the
 * ArrayBuffer is collected. */
typedef struct mapping {
  void *addr;
  size_t len;
  int unmapped;
  struct mapping *next;
} mapping_t;

static mapping_t *mappings = NULL;

static void mapping_finalize(napi_env env, void *data, void *hint) {
  mapping_t *m = hint;
  for (mapping_t **pp = &mappings; *pp; pp = &(*pp)->next)
    if (*pp == m) { *pp = m->next; break; }
  if (!m->unmapped) munmap(m->addr, m->len);
  free(m);
}

static napi_value js_mmap(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  uint32_t len;
  if (!get_int(env, argv[0], &fd) || !get_uint(env, argv[1], &len) || len == 0) return throw_type(env, "mmap(fd, length)");
  mapping_t *m = calloc(1, sizeof *m);
  if (!m) return throw_errno(env, "mmap", ENOMEM);
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    free(m);
    return throw_errno(env, "mmap", e);
  }
  m->addr = p;
  m->len = len;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, len, mapping_finalize, m, &ab) != napi_ok) {
    munmap(p, len);
    free(m);
    return throw_errno(env, "mmap", ENOMEM);
  }
  m->next = mappings;
  mappings = m;
  return ab;
}

static napi_value js_munmap(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data;
  size_t len;
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab) return throw_type(env, "munmap(arraybuffer from mmap)");
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));
  mapping_t *m = mappings;
  while (m && !(m->addr == data && !m->unmapped)) m = m->next;
  if (!m) return NULL;  /* already unmapped (detached), or not ours */
  /* the finalizer may run (and free m) as the buffer detaches */
  void *addr = m->addr;
  size_t mlen = m->len;
  m->unmapped = 1;
  CHECK(napi_detach_arraybuffer(env, argv[0]));
  if (munmap(addr, mlen) < 0) return throw_errno(env, "munmap", errno);
  return NULL;
}

/* ---------- misc syscalls ---------- */

/* clock(id) -> clock_gettime(id) in nanoseconds as a BigInt
 * (CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1) */
static napi_value js_clock(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t which;
  if (!get_int(env, argv[0], &which)) return throw_type(env, "clock(id)");
  struct timespec ts;
  if (clock_gettime((clockid_t)which, &ts) < 0) return throw_errno(env, "clock_gettime", errno);
  napi_value v;
  napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &v);
  return v;
}

static napi_value js_strerror(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t e;
  if (!get_int(env, argv[0], &e)) return throw_type(env, "strerror(errno)");
  if (e < 0) e = -e;
  napi_value v;
  napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value js_errname(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t e;
  if (!get_int(env, argv[0], &e)) return throw_type(env, "errname(errno)");
  if (e < 0) e = -e;
  const char *n = errno_name(e);
  napi_value v;
  if (n) napi_create_string_utf8(env, n, NAPI_AUTO_LENGTH, &v);
  else napi_get_undefined(env, &v);
  return v;
}

static napi_value js_if_nametoindex(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IF_NAMESIZE + 1];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) return throw_type(env, "if_nametoindex(name)");
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return throw_errno(env, "if_nametoindex", errno);
  return make_int(env, idx);
}

static napi_value js_if_indextoname(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t idx;
  char name[IF_NAMESIZE];
  if (!get_uint(env, argv[0], &idx)) return throw_type(env, "if_indextoname(index)");
  if (if_indextoname(idx, name) == NULL) return throw_errno(env, "if_indextoname", errno);
  napi_value v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* setns(fd, nstype): move the calling thread into a namespace */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, type;
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &type)) return throw_type(env, "setns(fd, nstype)");
  if (setns(fd, type) < 0) return throw_errno(env, "setns", errno);
  return NULL;
}

static napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t pid;
  if (!get_int(env, argv[0], &pid)) return throw_type(env, "pidfd_open(pid)");
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, "pidfd_open", errno);
  return make_int(env, fd);
}

static napi_value js_pidfd_getfd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t pidfd, target;
  if (!get_int(env, argv[0], &pidfd) || !get_int(env, argv[1], &target)) return throw_type(env, "pidfd_getfd(pidfd, fd)");
  long fd = syscall(SYS_pidfd_getfd, pidfd, target, 0);
  if (fd < 0) return throw_errno(env, "pidfd_getfd", errno);
  /* close-on-exec is set by the kernel; O_NONBLOCK is shared with the
   * owner's file description, so it is left alone */
  return make_int(env, fd);
}

/* fcntl(fd, cmd, arg) -> int: the integer-argument commands only (F_GETFL,
 * F_SETFL, F_GETOWN, F_SETOWN ...); Node has no way to set O_ASYNC. */
static napi_value js_fcntl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, cmd, arg = 0;
  if (!get_int(env, argv[0], &fd) || !get_int(env, argv[1], &cmd)) return throw_type(env, "fcntl(fd, cmd, arg)");
  if (!is_nullish(env, argv[2]) && !get_int(env, argv[2], &arg)) return throw_type(env, "fcntl arg must be an integer");
  int rc;
  do rc = fcntl(fd, cmd, arg); while (rc < 0 && errno == EINTR);
  if (rc < 0) return throw_errno(env, "fcntl", errno);
  return make_int(env, rc);
}

/* ---------- directories and links (ss -p, netstat -p: /proc/PID/fd) ---------- */

/* openat(dirfd, path, flags) -> fd, always close-on-exec; dirfd -100 is AT_FDCWD */
static napi_value js_openat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t dirfd, flags;
  char path[4096];
  size_t len;
  if (!get_int(env, argv[0], &dirfd) || !get_int(env, argv[2], &flags) ||
      napi_get_value_string_utf8(env, argv[1], path, sizeof path, &len) != napi_ok)
    return throw_type(env, "openat(dirfd, path, flags)");
  if (len >= sizeof path - 1) return throw_errno(env, "openat", ENAMETOOLONG);
  int fd;
  do fd = openat(dirfd, path, flags | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) return throw_errno(env, "openat", errno);
  return make_int(env, fd);
}

/* getdents64(fd, buffer) -> bytes of struct linux_dirent64 records read
 * into buffer, 0 at the end of the directory */
static napi_value js_getdents64(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void *p;
  size_t n;
  if (!get_int(env, argv[0], &fd) || !get_buffer(env, argv[1], &p, &n)) return throw_type(env, "getdents64(fd, buffer)");
  long rc;
  do rc = syscall(SYS_getdents64, fd, p, n); while (rc < 0 && errno == EINTR);
  if (rc < 0) return throw_errno(env, "getdents64", errno);
  return make_int(env, rc);
}

/* readlinkat(dirfd, name, buffer) -> the bytes of the link's target written
 * to buffer (cut at its length, as readlink(2) does; no NUL). name is a
 * string, or a Buffer holding a NUL-ended name (a loop over many names
 * rewrites one Buffer rather than making a string for each). */
static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t dirfd;
  char copy[256];
  const char *name = copy;
  size_t len;
  void *p, *np;
  size_t n, nn;
  if (!get_int(env, argv[0], &dirfd) || !get_buffer(env, argv[2], &p, &n)) return throw_type(env, "readlinkat(dirfd, name, buffer)");
  if (get_buffer(env, argv[1], &np, &nn)) {
    if (!memchr(np, 0, nn)) return throw_type(env, "readlinkat name: a Buffer must hold a NUL-ended name");
    name = np;
  } else {
    if (napi_get_value_string_utf8(env, argv[1], copy, sizeof copy, &len) != napi_ok) return throw_type(env, "readlinkat(dirfd, name, buffer)");
    if (len >= sizeof copy - 1) return throw_errno(env, "readlinkat", ENAMETOOLONG);
  }
  ssize_t rc = readlinkat(dirfd, name, p, n);
  if (rc < 0) return throw_errno(env, "readlinkat", errno);
  return make_int(env, rc);
}

/* ---------- module ---------- */

#define FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_default, NULL }

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
    FN("socket", js_socket),
    FN("socketpair", js_socketpair),
    FN("close", js_close),
    FN("bind", js_bind),
    FN("connect", js_connect),
    FN("listen", js_listen),
    FN("accept", js_accept),
    FN("getsockname", js_getsockname),
    FN("getpeername", js_getpeername),
    FN("shutdown", js_shutdown),
    FN("setsockopt", js_setsockopt),
    FN("getsockopt", js_getsockopt),
    FN("sendto", js_sendto),
    FN("recvmsg", js_recvmsg),
    FN("recv", js_recv),
    FN("send", js_send),
    FN("epoll_create", js_epoll_create),
    FN("epoll_ctl", js_epoll_ctl),
    FN("epoll_wait", js_epoll_wait),
    FN("sendrecv", js_sendrecv),
    FN("sendrecvBind", js_sendrecv_bind),
    FN("sendrecvBound", js_sendrecv_bound),
    FN("clock", js_clock),
    FN("strerror", js_strerror),
    FN("errname", js_errname),
    FN("if_nametoindex", js_if_nametoindex),
    FN("if_indextoname", js_if_indextoname),
    FN("setns", js_setns),
    FN("getaddrinfo", js_getaddrinfo),
    FN("getnameinfo", js_getnameinfo),
    FN("pidfd_open", js_pidfd_open),
    FN("pidfd_getfd", js_pidfd_getfd),
    FN("fcntl", js_fcntl),
    FN("openat", js_openat),
    FN("getdents64", js_getdents64),
    FN("readlinkat", js_readlinkat),
    FN("mmap", js_mmap),
    FN("munmap", js_munmap),
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);

  napi_property_descriptor methods[] = {
    FN("start", poller_start),
    FN("stop", poller_stop),
    FN("close", poller_close),
    FN("ref", poller_ref),
  };
  napi_value ctor;
  napi_define_class(env, "Poller", NAPI_AUTO_LENGTH, poller_new, NULL,
                    sizeof methods / sizeof methods[0], methods, &ctor);
  napi_set_named_property(env, exports, "Poller", ctor);
  return exports;
}
