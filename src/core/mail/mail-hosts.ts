// Which mail servers Dossier may connect to: a host name that resolves to a loopback, private (RFC 1918,
// fc00::/7), link-local or otherwise internal address is refused, so "check and add" can't be turned into a
// probe of the firm's own network or a cloud metadata service. Checked when an account is saved and again
// at every connect, on the address actually connected to (a name can be re-pointed after the check: DNS
// rebinding). DOSSIER_ALLOW_PRIVATE_MAIL_HOSTS=true allows internal addresses for an on-premises server;
// cloud metadata endpoints stay refused even then. ipaddr.js classifies, the only import of it.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RuleError } from '../platform/errors.ts';

export type MailHostPolicy = { allowPrivate: boolean };
export const STRICT_MAIL_HOSTS: MailHostPolicy = Object.freeze({ allowPrivate: false });
export const mailHostPolicy = (config: { allowPrivateMailHosts: boolean }): MailHostPolicy => ({ allowPrivate: config.allowPrivateMailHosts });

/** Instance metadata and host-agent endpoints of the large clouds (AWS, ECS, GCP, Azure, Alibaba, Oracle). */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '168.63.129.16', '100.100.100.200', '192.0.0.192', 'fd00:ec2::254']);
/** Internal ranges an on-premises mail server may sit in, allowed only with allowPrivate. */
const INTERNAL = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

export class HostNotAllowedError extends RuleError {
  constructor(host: string, field?: string) {
    super('host_not_allowed', `The mail server ${host} is on a private or internal network address, which Dossier does not connect to`, field);
  }
}

/** Whether one IP address may be connected to (IPv4-mapped IPv6 is judged as the IPv4 address it carries). */
export function isAllowedMailAddress(address: string, policy: MailHostPolicy): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.process(address);
  if (METADATA.has(ip.toNormalizedString()) || METADATA.has(ip.toString())) return false;
  const range = ip.range();
  return range === 'unicast' || (policy.allowPrivate && INTERNAL.has(range));
}

/**
 * Resolves the host and returns the address to connect to; refuses (HostNotAllowedError) when any of its
 * addresses is not allowed, so a name can't mix a public address with an internal one and win a race.
 */
export async function resolveMailHost(host: string, policy: MailHostPolicy, field?: string): Promise<string> {
  const name = host.trim().replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(name) ? [name] : (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
  if (!addresses.length || addresses.some((a) => !isAllowedMailAddress(a, policy))) throw new HostNotAllowedError(host, field);
  return addresses[0]!;
}

/** For saving an account: each host given must resolve to allowed addresses (a name that does not resolve is left to the login check). */
export async function checkMailHosts(hosts: { imap?: string | undefined; smtp?: string | undefined }, policy: MailHostPolicy): Promise<void> {
  for (const [kind, host] of Object.entries(hosts)) {
    if (!host) continue;
    try {
      await resolveMailHost(host, policy, `${kind}.host`);
    } catch (err) {
      if (err instanceof HostNotAllowedError) throw err;
      // ENOTFOUND and friends: the worker's login check reports those in its own words.
    }
  }
}
