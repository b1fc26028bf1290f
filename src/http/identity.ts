import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';
import type { ApiToken, Config } from '../config/config.schema.js';
import { highestRole, type Identity, type Role } from '../domain/identity.js';

export interface IdentityResolver {
  /** Who sent this request, or null when nobody we trust is named. */
  resolve(c: Context): Identity | null;
  /** Whether an address is a trusted forward-auth proxy (it speaks for many people). */
  isTrustedProxy(peer: string): boolean;
}

type ForwardAuth = Config['auth']['forwardAuth'];

/** The peer's address as the socket reports it; absent when the app is called without a socket (tests). */
export function peerAddress(c: Context): string | null {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const address = incoming?.socket?.remoteAddress;
  if (!address) return null;
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/**
 * Bearer tokens are compared by their SHA-256, every configured one each time, so neither the
 * stored form nor the timing says which token matched. Forward-auth headers count only from a
 * configured proxy address; from anywhere else they are ignored, never trusted.
 */
export function createIdentityResolver(options: { tokens: readonly ApiToken[]; forwardAuth: ForwardAuth }): IdentityResolver {
  const hashes = options.tokens.map((t) => ({ ...t, digest: Buffer.from(t.sha256, 'hex') }));
  const proxies = trustedProxies(options.forwardAuth.trustedProxies);
  const forwardAuthOn = options.forwardAuth.trustedProxies.length > 0;

  function fromToken(header: string | undefined): Identity | null {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!presented) return null;
    const digest = createHash('sha256').update(presented).digest();
    let found: (typeof hashes)[number] | null = null;
    for (const token of hashes) if (timingSafeEqual(digest, token.digest)) found = token;
    return found ? { name: found.name, role: found.role, source: 'token' } : null;
  }

  function fromProxy(c: Context): Identity | null {
    if (!forwardAuthOn) return null;
    const peer = peerAddress(c);
    if (!peer || !proxies.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4')) return null;
    const user = c.req.header(options.forwardAuth.userHeader)?.trim();
    if (!user) return null;
    const groups = (c.req.header(options.forwardAuth.groupsHeader) ?? '')
      .split(/[,\s]+/)
      .map((g) => g.trim())
      .filter(Boolean);
    const mapped = groups.map((g) => options.forwardAuth.groupRoles[g]).filter((r): r is Role => r !== undefined);
    const role = highestRole(mapped) ?? (options.forwardAuth.defaultRole === 'none' ? null : options.forwardAuth.defaultRole);
    return role ? { name: user, role, source: 'forward-auth' } : null;
  }

  return {
    isTrustedProxy: (peer) => forwardAuthOn && isIP(peer) !== 0 && proxies.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4'),
    resolve(c) {
      // A request that presents a token is judged by the token alone: a bad token is not rescued by headers.
      const header = c.req.header('authorization');
      if (header !== undefined) return fromToken(header);
      return fromProxy(c);
    },
  };
}
