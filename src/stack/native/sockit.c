/*
 * sockit native layer: the socket syscalls Node lacks, and nothing else.
 *
 * No policy lives here: every function is one syscall (or one uv_poll
 * handle) with its arguments checked and its result or errno returned.
 * Failures throw an Error carrying `code` ('EACCES'), `errno` (negative,
 * as Node's own errors do) and `syscall`.
 *
 * Addresses cross the boundary as plain objects:
 *   AF_INET   { family: 2,  address: '192.0.2.1', port }
 *   AF_INET6  { family: 10, address: '2001:db8::1', port, flowinfo, scopeid }
 *   AF_UNIX   { family: 1,  path }            (path '' = unnamed; '\0x' = abstract)
 *   AF_NETLINK{ family: 16, pid, groups }
 *   AF_PACKET { family: 17, protocol, ifindex, hatype, pkttype, addr: Buffer }
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* Optional integer property; returns def when absent. */
static int prop_int(napi_env env, napi_value obj, const char *name, int64_t def, int64_t *out) {
  bool has = false;
  napi_value v;
  *out = def;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return 0;
  if (!has) return 1;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (is_nullish(env, v)) return 1;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int prop_str(napi_env env, napi_value obj, const char *name, char *buf, size_t cap, size_t *len) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return 0;
  return napi_get_value_string_utf8(env, v, buf, cap, len) == napi_ok;
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

static void set_str(napi_env env, napi_value obj, const char *name, const char *s, size_t len) {
  napi_value v;
  napi_create_string_utf8(env, s, len, &v);
  napi_set_named_property(env, obj, name, v);
}

static void set_bigint(napi_env env, napi_value obj, const char *name, int64_t n) {
  napi_value v;
  napi_create_bigint_int64(env, n, &v);
  napi_set_named_property(env, obj, name, v);
}

static void set_copy(napi_env env, napi_value obj, const char *name, const void *p, size_t len) {
  napi_value v;
  void *dst;
  napi_create_buffer_copy(env, len, p, &dst, &v);
  napi_set_named_property(env, obj, name, v);
}

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------- sockaddr <-> object ---------- */

/* Parse an address object into ss; returns length, 0 on a thrown error. */
static socklen_t to_sockaddr(napi_env env, napi_value obj, struct sockaddr_storage *ss) {
  int64_t family = 0;
  napi_valuetype t;
  memset(ss, 0, sizeof *ss);
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) {
    throw_type(env, "address must be an object");
    return 0;
  }
  if (!prop_int(env, obj, "family", 0, &family)) {
    throw_type(env, "address.family must be a number");
    return 0;
  }
  char text[INET6_ADDRSTRLEN + 1];
  size_t len = 0;
  int64_t port, n;
  switch (family) {
    case AF_INET: {
      struct sockaddr_in *sin = (struct sockaddr_in *)ss;
      sin->sin_family = AF_INET;
      if (!prop_int(env, obj, "port", 0, &port) || port < 0 || port > 65535) {
        throw_type(env, "address.port must be 0..65535");
        return 0;
      }
      sin->sin_port = htons((uint16_t)port);
      if (!prop_str(env, obj, "address", text, sizeof text, &len) ||
          inet_pton(AF_INET, text, &sin->sin_addr) != 1) {
        throw_type(env, "address.address must be an IPv4 address");
        return 0;
      }
      return sizeof *sin;
    }
    case AF_INET6: {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
      sin6->sin6_family = AF_INET6;
      if (!prop_int(env, obj, "port", 0, &port) || port < 0 || port > 65535) {
        throw_type(env, "address.port must be 0..65535");
        return 0;
      }
      sin6->sin6_port = htons((uint16_t)port);
      if (!prop_str(env, obj, "address", text, sizeof text, &len) ||
          inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) {
        throw_type(env, "address.address must be an IPv6 address");
        return 0;
      }
      if (!prop_int(env, obj, "flowinfo", 0, &n)) return throw_type(env, "address.flowinfo"), 0;
      sin6->sin6_flowinfo = htonl((uint32_t)n);
      if (!prop_int(env, obj, "scopeid", 0, &n)) return throw_type(env, "address.scopeid"), 0;
      sin6->sin6_scope_id = (uint32_t)n;
      return sizeof *sin6;
    }
    case AF_UNIX: {
      struct sockaddr_un *sun = (struct sockaddr_un *)ss;
      char path[sizeof sun->sun_path + 1];
      sun->sun_family = AF_UNIX;
      if (!prop_str(env, obj, "path", path, sizeof path, &len)) {
        throw_type(env, "address.path must be a string");
        return 0;
      }
      if (len >= sizeof sun->sun_path) {
        throw_errno(env, "sockaddr_un", ENAMETOOLONG);
        return 0;
      }
      memcpy(sun->sun_path, path, len);
      /* abstract names start with NUL and are not NUL-terminated */
      if (len > 0 && path[0] == '\0') return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
      return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (len ? 1 : 0));
    }
    case AF_NETLINK: {
      struct sockaddr_nl *snl = (struct sockaddr_nl *)ss;
      snl->nl_family = AF_NETLINK;
      if (!prop_int(env, obj, "pid", 0, &n)) return throw_type(env, "address.pid"), 0;
      snl->nl_pid = (uint32_t)n;
      if (!prop_int(env, obj, "groups", 0, &n)) return throw_type(env, "address.groups"), 0;
      snl->nl_groups = (uint32_t)n;
      return sizeof *snl;
    }
    case AF_PACKET: {
      struct sockaddr_ll *sll = (struct sockaddr_ll *)ss;
      sll->sll_family = AF_PACKET;
      if (!prop_int(env, obj, "protocol", 0, &n)) return throw_type(env, "address.protocol"), 0;
      sll->sll_protocol = htons((uint16_t)n);
      if (!prop_int(env, obj, "ifindex", 0, &n)) return throw_type(env, "address.ifindex"), 0;
      sll->sll_ifindex = (int)n;
      if (!prop_int(env, obj, "hatype", 0, &n)) return throw_type(env, "address.hatype"), 0;
      sll->sll_hatype = (unsigned short)n;
      if (!prop_int(env, obj, "pkttype", 0, &n)) return throw_type(env, "address.pkttype"), 0;
      sll->sll_pkttype = (unsigned char)n;
      bool has = false;
      napi_has_named_property(env, obj, "addr", &has);
      if (has) {
        napi_value a;
        void *data;
        size_t alen;
        napi_get_named_property(env, obj, "addr", &a);
        if (!is_nullish(env, a)) {
          if (!get_buffer(env, a, &data, &alen) || alen > 8) return throw_type(env, "address.addr"), 0;
          memcpy(sll->sll_addr, data, alen);
          sll->sll_halen = (unsigned char)alen;
        }
      }
      return sizeof *sll;
    }
    default:
      throw_errno(env, "sockaddr", EAFNOSUPPORT);
      return 0;
  }
}

static napi_value from_sockaddr(napi_env env, const struct sockaddr *sa, socklen_t len) {
  napi_value obj;
  char text[INET6_ADDRSTRLEN];
  if (len == 0 || sa == NULL) {
    napi_get_null(env, &obj);
    return obj;
  }
  napi_create_object(env, &obj);
  set_int(env, obj, "family", sa->sa_family);
  switch (sa->sa_family) {
    case AF_INET: {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
      inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
      set_str(env, obj, "address", text, NAPI_AUTO_LENGTH);
      set_int(env, obj, "port", ntohs(sin->sin_port));
      break;
    }
    case AF_INET6: {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
      inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
      set_str(env, obj, "address", text, NAPI_AUTO_LENGTH);
      set_int(env, obj, "port", ntohs(sin6->sin6_port));
      set_int(env, obj, "flowinfo", ntohl(sin6->sin6_flowinfo));
      set_int(env, obj, "scopeid", sin6->sin6_scope_id);
      break;
    }
    case AF_UNIX: {
      const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
      size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
      if (n > 0 && sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      set_str(env, obj, "path", sun->sun_path, n);
      break;
    }
    case AF_NETLINK: {
      const struct sockaddr_nl *snl = (const struct sockaddr_nl *)sa;
      set_int(env, obj, "pid", snl->nl_pid);
      set_int(env, obj, "groups", snl->nl_groups);
      break;
    }
    case AF_PACKET: {
      const struct sockaddr_ll *sll = (const struct sockaddr_ll *)sa;
      set_int(env, obj, "protocol", ntohs(sll->sll_protocol));
      set_int(env, obj, "ifindex", sll->sll_ifindex);
      set_int(env, obj, "hatype", sll->sll_hatype);
      set_int(env, obj, "pkttype", sll->sll_pkttype);
      set_copy(env, obj, "addr", sll->sll_addr, sll->sll_halen <= 8 ? sll->sll_halen : 8);
      break;
    }
    default:
      break;
  }
  return obj;
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
 * An address of { family: 0 } (AF_UNSPEC) dissolves a datagram association. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "connect(fd, address)");
  int64_t family = -1;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t == napi_object && prop_int(env, argv[1], "family", -1, &family) && family == AF_UNSPEC) {
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNSPEC;
    len = sizeof(struct sockaddr);
  } else {
    len = to_sockaddr(env, argv[1], &ss);
    if (len == 0) return NULL;
  }
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
  napi_set_named_property(env, obj, "address", from_sockaddr(env, (struct sockaddr *)&ss, len));
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
  return from_sockaddr(env, (struct sockaddr *)&ss, len);
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
  if (!is_nullish(env, argv[4])) {
    napi_typedarray_type type;
    size_t n;
    void *p;
    napi_value ab;
    size_t off;
    bool ta = false;
    napi_is_typedarray(env, argv[4], &ta);
    if (!ta || napi_get_typedarray_info(env, argv[4], &type, &n, &p, &ab, &off) != napi_ok ||
        type != napi_bigint64_array || n < 2)
      return throw_type(env, "sendto stamps must be a BigInt64Array(2)");
    stamps = p;
  }
  ssize_t rc;
  do {
    if (stamps) {
      stamps[0] = clock_ns(CLOCK_MONOTONIC);
      stamps[1] = clock_ns(CLOCK_REALTIME);
    }
    rc = sendto(fd, data, len, flags | MSG_NOSIGNAL, alen ? (struct sockaddr *)&ss : NULL, alen);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -1);
    return throw_errno(env, "sendto", errno);
  }
  return make_int(env, rc);
}

/* Parse one control message into the control object. */
static void parse_cmsg(napi_env env, napi_value ctl, napi_value extra, uint32_t *nextra, struct cmsghdr *c) {
  const unsigned char *d = CMSG_DATA(c);
  size_t dlen = c->cmsg_len - CMSG_LEN(0);
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS_OLD && dlen >= sizeof(struct timespec)) {
    struct timespec ts;
    memcpy(&ts, d, sizeof ts);
    set_bigint(env, ctl, "timestampNs", (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    return;
  }
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP_OLD && dlen >= sizeof(struct timeval)) {
    struct timeval tv;
    memcpy(&tv, d, sizeof tv);
    set_bigint(env, ctl, "timestampNs", (int64_t)tv.tv_sec * 1000000000LL + (int64_t)tv.tv_usec * 1000);
    return;
  }
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && dlen >= sizeof(struct ucred)) {
    struct ucred cr;
    napi_value o;
    memcpy(&cr, d, sizeof cr);
    napi_create_object(env, &o);
    set_int(env, o, "pid", cr.pid);
    set_int(env, o, "uid", cr.uid);
    set_int(env, o, "gid", cr.gid);
    napi_set_named_property(env, ctl, "credentials", o);
    return;
  }
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    size_t n = dlen / sizeof(int);
    napi_value arr;
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, d + i * sizeof(int), sizeof fd);
      napi_set_element(env, arr, (uint32_t)i, make_int(env, fd));
    }
    napi_set_named_property(env, ctl, "rights", arr);
    return;
  }
  if (c->cmsg_level == IPPROTO_IP && (c->cmsg_type == IP_TTL || c->cmsg_type == IP_TOS)) {
    int v = 0;
    if (dlen >= sizeof(int)) memcpy(&v, d, sizeof v);
    else if (dlen >= 1) v = d[0];
    set_int(env, ctl, c->cmsg_type == IP_TTL ? "ttl" : "tos", v);
    return;
  }
  if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && dlen >= sizeof(struct in_pktinfo)) {
    struct in_pktinfo pi;
    char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
    napi_value o;
    memcpy(&pi, d, sizeof pi);
    napi_create_object(env, &o);
    set_int(env, o, "ifindex", pi.ipi_ifindex);
    inet_ntop(AF_INET, &pi.ipi_addr, a, sizeof a);
    inet_ntop(AF_INET, &pi.ipi_spec_dst, s, sizeof s);
    set_str(env, o, "address", a, NAPI_AUTO_LENGTH);
    set_str(env, o, "specDst", s, NAPI_AUTO_LENGTH);
    napi_set_named_property(env, ctl, "pktinfo", o);
    return;
  }
  if (c->cmsg_level == IPPROTO_IPV6 && (c->cmsg_type == IPV6_HOPLIMIT || c->cmsg_type == IPV6_TCLASS) &&
      dlen >= sizeof(int)) {
    int v;
    memcpy(&v, d, sizeof v);
    set_int(env, ctl, c->cmsg_type == IPV6_HOPLIMIT ? "hopLimit" : "tclass", v);
    return;
  }
  if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && dlen >= sizeof(struct in6_pktinfo)) {
    struct in6_pktinfo pi;
    char a[INET6_ADDRSTRLEN];
    napi_value o;
    memcpy(&pi, d, sizeof pi);
    napi_create_object(env, &o);
    set_int(env, o, "ifindex", pi.ipi6_ifindex);
    inet_ntop(AF_INET6, &pi.ipi6_addr, a, sizeof a);
    set_str(env, o, "address", a, NAPI_AUTO_LENGTH);
    napi_set_named_property(env, ctl, "pktinfo", o);
    return;
  }
  if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
       (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
      dlen >= sizeof(struct sock_extended_err)) {
    struct sock_extended_err ee;
    napi_value o;
    memcpy(&ee, d, sizeof ee);
    napi_create_object(env, &o);
    set_int(env, o, "errno", ee.ee_errno);
    set_int(env, o, "origin", ee.ee_origin);
    set_int(env, o, "type", ee.ee_type);
    set_int(env, o, "code", ee.ee_code);
    set_int(env, o, "info", ee.ee_info);
    set_int(env, o, "data", ee.ee_data);
    /* SO_EE_OFFENDER: the sockaddr that follows the struct */
    size_t off = sizeof(struct sock_extended_err);
    if (dlen > off) {
      const struct sockaddr *sa = (const struct sockaddr *)(d + off);
      socklen_t salen = (socklen_t)(dlen - off);
      if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, sa, salen < sizeof ss ? salen : sizeof ss);
        napi_set_named_property(env, o, "offender", from_sockaddr(env, (struct sockaddr *)&ss, salen));
      }
    }
    napi_set_named_property(env, ctl, "error", o);
    return;
  }
  /* anything else is passed through raw */
  napi_value o;
  napi_create_object(env, &o);
  set_int(env, o, "level", c->cmsg_level);
  set_int(env, o, "type", c->cmsg_type);
  set_copy(env, o, "data", d, dlen);
  napi_set_element(env, extra, (*nextra)++, o);
}

/* recvmsg(fd, buffer, flags) -> null when nothing is queued, else
 * { bytes, flags, address, control }. bytes may exceed buffer.length when
 * MSG_TRUNC is passed (the datagram's real length). */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags = 0;
  void *data;
  size_t len;
  if (!get_int(env, argv[0], &fd)) return throw_type(env, "recvmsg(fd, buffer, flags)");
  if (!get_buffer(env, argv[1], &data, &len)) return throw_type(env, "recvmsg buffer must be a Buffer");
  if (!is_nullish(env, argv[2]) && !get_int(env, argv[2], &flags)) return throw_type(env, "recvmsg flags");
  struct sockaddr_storage ss;
  union {
    char buf[1024];
    struct cmsghdr align;
  } cbuf;
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = {
    .msg_name = &ss, .msg_namelen = sizeof ss,
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf,
  };
  ssize_t rc;
  do rc = recvmsg(fd, &msg, flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (rc < 0 && errno == EINTR);
  napi_value out;
  if (rc < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_get_null(env, &out);
      return out;
    }
    return throw_errno(env, "recvmsg", errno);
  }
  napi_value ctl, extra;
  uint32_t nextra = 0;
  napi_create_object(env, &out);
  set_int(env, out, "bytes", rc);
  set_int(env, out, "flags", msg.msg_flags);
  napi_set_named_property(env, out, "address", from_sockaddr(env, (struct sockaddr *)&ss, msg.msg_namelen));
  napi_create_object(env, &ctl);
  napi_create_array(env, &extra);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
    parse_cmsg(env, ctl, extra, &nextra, c);
  if (nextra) napi_set_named_property(env, ctl, "other", extra);
  napi_set_named_property(env, out, "control", ctl);
  return out;
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
    FN("clock", js_clock),
    FN("strerror", js_strerror),
    FN("errname", js_errname),
    FN("if_nametoindex", js_if_nametoindex),
    FN("if_indextoname", js_if_indextoname),
    FN("setns", js_setns),
    FN("pidfd_open", js_pidfd_open),
    FN("pidfd_getfd", js_pidfd_getfd),
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
