// Which Mosquitto the tests run (MOSQUITTO_BIN, Debian's 2.0.11 by default), and a raw MQTT
// CONNECT for tests that must hold a connection open before its CONNECT is read.
import { commandSync } from './processes';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN || '/usr/sbin/mosquitto';

/** "2.1.2" from `mosquitto -h` (it exits non-zero but prints its version), or "unknown". */
export function mosquittoVersion(bin = MOSQUITTO_BIN): string {
  const r = commandSync(bin, ['-h']);
  return /mosquitto version (\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

/** 2.1 or later: delayed basic auth, ticks only on request. */
export function isMosquitto21(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major !== undefined && minor !== undefined && (major > 2 || (major === 2 && minor >= 1));
}

/** An MQTT 3.1.1 CONNECT with user name and password (the packet below 128 bytes). */
export function connectPacket(clientId: string, user: string, pass: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
  };
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, 0xc2, 0, 60]), // level 4; user name, password, clean session; keep-alive 60 s
    str(clientId),
    str(user),
    str(pass),
  ]);
  if (body.length > 127) throw new Error('connectPacket: fields too long for a one-byte length');
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
