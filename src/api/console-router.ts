// GET /admin: the operator console, static files built by `npm run build` (web/ → dist/admin).
// A stricter Content-Security-Policy than the API's: scripts, styles and requests from this
// origin only, no inline scripts or styles, no eval, no frames.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { consoleNotBuilt, notFound } from '../errors';

/** dist/admin of the repository (or image) this module runs from, src/ or dist/src/. */
export function consoleDir(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.join(dir, 'dist', 'admin');
}

export const CONSOLE_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    manifestSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
  },
};

export function createConsoleRouter(dir = consoleDir()): Router {
  const r = Router();
  r.use(helmet.contentSecurityPolicy(CONSOLE_CSP));
  r.use(express.static(dir, { index: 'index.html', fallthrough: true, maxAge: 0 }));
  r.use((req, _res, next) => {
    if (!existsSync(path.join(dir, 'index.html'))) {
      next(consoleNotBuilt('the console is not built: run `npm run build`'));
      return;
    }
    next(notFound(`no console file ${req.path}`));
  });
  return r;
}
