// Hands out relay ports and enforces allocation quotas. One broker serves every relay
// thread (through the main thread when there are several), so quotas hold process-wide.

export interface BrokerOptions {
  minPort: number;
  maxPort: number;
  /** Allocations one user may hold at once; 0 = unlimited (coturn's user-quota). */
  userQuota: number;
  /** Allocations the server holds at once; 0 = unlimited (coturn's total-quota). */
  totalQuota: number;
}

export type Grant = { ok: true; port: number; token?: string } | { ok: false; code: 486 | 508; reason: string };

/** What an Allocate asked for (RFC 8656 §7.2): an even port, maybe reserving the next one. */
export interface PortRequest {
  evenPort: boolean;
  /** EVEN-PORT's R bit: hold port+1 for a later Allocate carrying the token. */
  reserveNext: boolean;
  /** RESERVATION-TOKEN (hex): take the port an earlier Allocate reserved. */
  token?: string;
}

const RESERVATION_MS = 30_000;

export class AllocationBroker {
  private readonly opts: BrokerOptions;
  private readonly used: Uint8Array;
  private usedCount = 0;
  private total = 0;
  private readonly perUser = new Map<string, number>();
  /** Reserved ports by token, in insertion (= expiry) order. */
  private readonly reservations = new Map<string, { port: number; expiresAt: number }>();

  constructor(opts: BrokerOptions) {
    if (!(opts.minPort >= 1 && opts.maxPort <= 65535 && opts.minPort <= opts.maxPort)) {
      throw new RangeError(`bad relay port range ${opts.minPort}-${opts.maxPort}`);
    }
    this.opts = opts;
    this.used = new Uint8Array(opts.maxPort - opts.minPort + 1);
  }

  get allocations(): number {
    return this.total;
  }

  /** Grants a port for `user`, or says why not (486 over quota, 508 no port or bad token). */
  acquire(user: string, req: PortRequest, now: number, random: () => number = Math.random): Grant {
    this.expireReservations(now);
    const { userQuota, totalQuota } = this.opts;
    const mine = this.perUser.get(user) ?? 0;
    if (userQuota > 0 && mine >= userQuota) return { ok: false, code: 486, reason: 'user quota reached' };
    if (totalQuota > 0 && this.total >= totalQuota) return { ok: false, code: 486, reason: 'total quota reached' };
    let port: number;
    let token: string | undefined;
    if (req.token !== undefined) {
      const r = this.reservations.get(req.token);
      if (!r) return { ok: false, code: 508, reason: 'unknown or expired reservation token' };
      this.reservations.delete(req.token);
      port = r.port; // already marked used while reserved
    } else if (req.reserveNext) {
      port = this.takePair(random);
      if (port < 0) return { ok: false, code: 508, reason: 'no relay port pair left' };
      token = randomToken(random);
      this.reservations.set(token, { port: port + 1, expiresAt: now + RESERVATION_MS });
    } else {
      port = this.takePort(req.evenPort, random);
      if (port < 0) return { ok: false, code: 508, reason: 'no relay ports left' };
    }
    this.total++;
    this.perUser.set(user, mine + 1);
    return token ? { ok: true, port, token } : { ok: true, port };
  }

  private expireReservations(now: number): void {
    for (const [token, r] of this.reservations) {
      if (r.expiresAt > now) break;
      this.reservations.delete(token);
      this.freePort(r.port);
    }
  }

  /** An even port whose odd neighbour is free too; both are marked used. */
  private takePair(random: () => number): number {
    const size = this.used.length;
    const start = Math.floor(random() * size);
    for (let i = 0; i < size; i++) {
      const idx = (start + i) % size;
      const port = this.opts.minPort + idx;
      if (port % 2 === 0 && idx + 1 < size && this.used[idx] === 0 && this.used[idx + 1] === 0) {
        this.used[idx] = this.used[idx + 1] = 1;
        this.usedCount += 2;
        return port;
      }
    }
    return -1;
  }

  /** Returns a grant's quota and port. */
  release(user: string, port: number): void {
    const mine = this.perUser.get(user) ?? 0;
    if (mine <= 1) this.perUser.delete(user);
    else this.perUser.set(user, mine - 1);
    if (this.total > 0) this.total--;
    this.freePort(port);
  }

  /** Marks a granted port as taken by someone else (bind failed) and offers another in its place. */
  replace(user: string, badPort: number, evenPort: boolean, random: () => number = Math.random): Grant {
    // Another process holds badPort: keep it marked used so it is not offered again. The quota slot carries over.
    const idx = badPort - this.opts.minPort;
    if (idx >= 0 && idx < this.used.length && this.used[idx] === 0) {
      this.used[idx] = 1;
      this.usedCount++;
    }
    const port = this.takePort(evenPort, random);
    if (port < 0) {
      this.release(user, -1);
      return { ok: false, code: 508, reason: 'no relay ports left' };
    }
    return { ok: true, port };
  }


  private takePort(even: boolean, random: () => number): number {
    const size = this.used.length;
    if (this.usedCount >= size) return -1;
    const start = Math.floor(random() * size);
    for (let i = 0; i < size; i++) {
      const idx = (start + i) % size;
      const port = this.opts.minPort + idx;
      if (this.used[idx] === 0 && (!even || port % 2 === 0)) {
        this.used[idx] = 1;
        this.usedCount++;
        return port;
      }
    }
    return -1;
  }

  private freePort(port: number): void {
    const idx = port - this.opts.minPort;
    if (idx >= 0 && idx < this.used.length && this.used[idx] === 1) {
      this.used[idx] = 0;
      this.usedCount--;
    }
  }
}

function randomToken(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += Math.floor(random() * 16).toString(16);
  return hex;
}
