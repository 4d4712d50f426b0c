// Linux values of the socket API constants (from <sys/socket.h>, <netinet/in.h>,
// <linux/in6.h>, <linux/tcp.h>, <linux/errqueue.h>). sockit runs on Linux only.

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;
export const IPPROTO_RAW = 255;

export const SOL_SOCKET = 1;
export const SOL_RAW = 255;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

// SOL_SOCKET
export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_BSDCOMPAT = 14;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: struct timeval
export const SO_SNDTIMEO = 21;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const SO_DETACH_FILTER = 27;
/** getsockopt: the attached classic BPF program; its length comes back in instructions, not bytes */
export const SO_GET_FILTER = SO_ATTACH_FILTER;
export const SO_TIMESTAMP = 29;
export const SO_ACCEPTCONN = 30;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_MARK = 36;
export const SO_TIMESTAMPNS = 35;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_RXQ_OVFL = 40;
export const SO_BUSY_POLL = 46;
export const SO_INCOMING_CPU = 49;
export const SO_COOKIE = 57;

// IPPROTO_IP
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_OPTIONS = 4;
export const IP_RECVOPTS = 6;
export const IP_RETOPTS = 7;
export const IP_PKTINFO = 8;
export const IP_MTU_DISCOVER = 10;
export const IP_RECVERR = 11;
export const IP_RECVTTL = 12;
export const IP_RECVTOS = 13;
export const IP_MTU = 14;
export const IP_FREEBIND = 15;
export const IP_TRANSPARENT = 19;
export const IP_BIND_ADDRESS_NO_PORT = 24;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_DROP_MEMBERSHIP = 36;
export const IP_UNBLOCK_SOURCE = 37;
export const IP_BLOCK_SOURCE = 38;
export const IP_ADD_SOURCE_MEMBERSHIP = 39;
export const IP_DROP_SOURCE_MEMBERSHIP = 40;
export const IP_MULTICAST_ALL = 49;

// RFC 3678 protocol-independent multicast API (IPPROTO_IP or IPPROTO_IPV6)
export const MCAST_JOIN_GROUP = 42;
export const MCAST_BLOCK_SOURCE = 43;
export const MCAST_UNBLOCK_SOURCE = 44;
export const MCAST_LEAVE_GROUP = 45;
export const MCAST_JOIN_SOURCE_GROUP = 46;
export const MCAST_LEAVE_SOURCE_GROUP = 47;

export const IP_PMTUDISC_DONT = 0;
export const IP_PMTUDISC_WANT = 1;
export const IP_PMTUDISC_DO = 2;
export const IP_PMTUDISC_PROBE = 3;

// IPPROTO_IPV6
export const IPV6_ADDRFORM = 1;
export const IPV6_2292PKTINFO = 2;
export const IPV6_CHECKSUM = 7;
export const IPV6_NEXTHOP = 9;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_JOIN_GROUP = 20; // IPV6_ADD_MEMBERSHIP
export const IPV6_LEAVE_GROUP = 21; // IPV6_DROP_MEMBERSHIP
export const IPV6_MTU_DISCOVER = 23;
export const IPV6_MTU = 24;
export const IPV6_RECVERR = 25;
export const IPV6_V6ONLY = 26;
export const IPV6_FLOWLABEL_MGR = 32;
export const IPV6_FLOWINFO_SEND = 33;
// struct in6_flowlabel_req (linux/in6.h)
export const IPV6_FL_A_GET = 0;
export const IPV6_FL_F_CREATE = 1;
export const IPV6_FL_S_EXCL = 1;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_RECVHOPOPTS = 53;
export const IPV6_RECVRTHDR = 56;
export const IPV6_RECVDSTOPTS = 58;
export const IPV6_RECVPATHMTU = 60;
export const IPV6_PATHMTU = 61;
export const IPV6_RECVTCLASS = 66;
export const IPV6_TCLASS = 67;
export const IPV6_DONTFRAG = 62;

// IPPROTO_ICMPV6
export const ICMP6_FILTER = 1;
// SOL_RAW / IPPROTO_ICMP
export const ICMP_FILTER = 1;

// IPPROTO_TCP
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_SYNCNT = 7;
export const TCP_LINGER2 = 8;
export const TCP_DEFER_ACCEPT = 9;
export const TCP_WINDOW_CLAMP = 10;
export const TCP_INFO = 11;
export const TCP_QUICKACK = 12;
export const TCP_CONGESTION = 13;
export const TCP_USER_TIMEOUT = 18;
export const TCP_FASTOPEN = 23;
export const TCP_NOTSENT_LOWAT = 25;

// send/recv flags
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_CONFIRM = 0x800;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_NOSIGNAL = 0x4000;

// sock_extended_err.ee_origin
export const SO_EE_ORIGIN_NONE = 0;
export const SO_EE_ORIGIN_LOCAL = 1;
export const SO_EE_ORIGIN_ICMP = 2;
export const SO_EE_ORIGIN_ICMP6 = 3;

// uv_poll events
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;
export const POLL_PRIORITIZED = 8;

// epoll(7)
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;

export const CLONE_NEWNET = 0x40000000;

// fcntl(2) commands and the O_ASYNC file status flag (SIGIO on readiness)
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const O_ASYNC = 0o20000;
