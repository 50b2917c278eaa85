// Admin tokens for a newcomer and for operators: `mqtt-authd token` makes one to configure, and
// `serve` on an interactive terminal with none configured makes one for that run only. Neither
// goes through the logger: a token is shown on the terminal, once, and kept nowhere else.
import { randomBytes } from 'node:crypto';
import type { AdminToken } from '../config';

/** The name the audit trail shows for changes made with a first-run token. */
export const FIRST_RUN_NAME = 'first-run';

/** 32 characters of base64url (192 random bits): above the 16 ADMIN_TOKENS requires. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** `NAME:TOKEN`, one entry of ADMIN_TOKENS or one line of ADMIN_TOKEN_FILE. */
export function tokenLine(name: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
    throw new Error(`token name "${name}": 1-64 letters, digits, ".", "_", "@" or "-"`);
  }
  return `${name}:${newToken()}`;
}

/** A token for this process only: `serve` makes one when none is configured, on a terminal. */
export function firstRunToken(): AdminToken {
  return { name: FIRST_RUN_NAME, token: newToken() };
}

/** What `serve` prints on the terminal (stderr) once it listens with a first-run token. */
export function firstRunMessage(t: AdminToken, url: string): string {
  return [
    '',
    'mqtt-authd: no ADMIN_TOKENS or ADMIN_TOKEN_FILE is set, so for this run only the',
    `management API and the console (${url}/admin/) take the token below:`,
    'shown this once, never logged, void when this process ends. Paste this line into the',
    'terminal you use next:',
    '',
    `  export TOKEN=${t.token}`,
    '',
    'To keep it across restarts, start the service with ADMIN_TOKENS="ops:$TOKEN"',
    '(or a new one from `npx mqtt-authd token ops`).',
    '',
    '',
  ].join('\n');
}

/** Logged (without any token) when `serve` starts with no token and no terminal to show one. */
export const NO_TOKEN_WARNING =
  'no admin token configured (ADMIN_TOKENS or ADMIN_TOKEN_FILE): the management API and the ' +
  'console answer 401 to every call. `mqtt-authd token ops` prints a new NAME:TOKEN entry';
