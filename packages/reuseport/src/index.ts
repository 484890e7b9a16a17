import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The native half: present when node-gyp built it at install time. */
interface Native {
  open(type: 'udp' | 'tcp', address: string, port: number, backlog?: number): number;
  setBuffers(fd: number, rcvbuf: number, sndbuf: number): void;
}

let native: Native | null | undefined;

function load(): Native | null {
  if (native !== undefined) return native;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const require = createRequire(import.meta.url);
  try {
    native = require(path.join(here, '..', 'build', 'Release', 'reuseport.node')) as Native;
  } catch {
    native = null;
  }
  return native;
}

/** True when sockets can share a port across threads on this machine. */
export function reusePortAvailable(): boolean {
  return process.platform === 'linux' && load() !== null;
}

/** A bound (and for TCP, listening) socket's descriptor with SO_REUSEPORT set. */
export function openReusePort(type: 'udp' | 'tcp', address: string, port: number, backlog = 511): number {
  const n = load();
  if (!n) throw Object.assign(new Error('SO_REUSEPORT addon is not built'), { code: 'SB_ERR_REUSEPORT_UNAVAILABLE' });
  return n.open(type, address, port, backlog);
}

/** Sets SO_RCVBUF / SO_SNDBUF on a descriptor (0 leaves one as it is). */
export function setSocketBuffers(fd: number, rcvbuf: number, sndbuf: number): void {
  load()?.setBuffers(fd, rcvbuf, sndbuf);
}
