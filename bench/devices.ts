// The benchmark's device population, shared by the bulk loader, the request generators and
// the sanity check: device i is fully determined by i.
import type { Acc, AclRule } from '../src/domain/acl';

/** Distinct passwords; each has one precomputed `$7$` hash reused by many devices. */
export const PASSWORD_COUNT = 16;

export const deviceName = (i: number): string => `dev${String(i).padStart(7, '0')}`;
export const clientIdOf = (i: number): string => `${deviceName(i)}-c`;
export const passwordOf = (i: number): string => `bench-pw-${i % PASSWORD_COUNT}-4f9d2a`;
export const isSuperuser = (i: number): boolean => i % 100 === 0;

/** Rules for every device, `%u` substituted per user (stored at `${prefix}acl:common`). */
export const COMMON_RULES: AclRule[] = [
  { pattern: 'devices/%u/#', access: 'readwrite' },
  { pattern: 'broadcast/#', access: 'read' },
];

/** A device's own rules, with its name written out as an operator would store them. */
export const ownRules = (name: string): AclRule[] => [
  { pattern: `sensors/${name}/+/data`, access: 'write' },
  { pattern: `cmd/${name}/#`, access: 'read' },
  { pattern: `cmd/${name}/admin`, access: 'deny' },
];

export interface AclCase {
  acc: Acc;
  topic(user: string, other: string): string;
  allow: boolean;
  why: string;
}

/** The /mqtt/acl mix: 5 allows to 3 denies, own rules and `%u` common rules. */
export const ACL_CASES: readonly AclCase[] = [
  { acc: 2, topic: (u) => `devices/${u}/telemetry`, allow: true, why: 'common %u publish' },
  { acc: 4, topic: (u) => `devices/${u}/#`, allow: true, why: 'common %u subscribe' },
  { acc: 1, topic: (u) => `cmd/${u}/reboot`, allow: true, why: 'own read' },
  { acc: 2, topic: (u) => `sensors/${u}/t1/data`, allow: true, why: 'own write' },
  { acc: 1, topic: () => 'broadcast/news', allow: true, why: 'common read' },
  { acc: 2, topic: (_u, o) => `devices/${o}/telemetry`, allow: false, why: "another's topic" },
  { acc: 4, topic: () => '#', allow: false, why: 'subscribe to everything' },
  { acc: 1, topic: (u) => `cmd/${u}/admin`, allow: false, why: 'own deny' },
];
