export const isRoot = process.getuid?.() === 0;
export const rootReason = 'needs root (raw sockets, namespaces): run as root, as CI does';
