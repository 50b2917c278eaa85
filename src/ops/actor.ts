// Who is making the current change (an admin token's name, `cli`, `import`), carried through
// async calls so the audit trail can name them without threading it through every call.
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<string>();

export const runAs = <T>(actor: string, fn: () => T): T => storage.run(actor, fn);
export const currentActor = (): string => storage.getStore() ?? 'system';
