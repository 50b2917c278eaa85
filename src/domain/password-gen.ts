import { randomBytes } from 'node:crypto';

/** A generated device password: 24 random bytes (192 bits) from the CSPRNG, base64url. */
export const generatePassword = (): string => randomBytes(24).toString('base64url');

/** A generated device id: `dev-` and 16 random bytes (128 bits) in hex. */
export const generateDeviceId = (): string => `dev-${randomBytes(16).toString('hex')}`;
