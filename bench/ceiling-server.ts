// The ceiling: a bare node:http server that reads the body and answers 200 with the headers
// mqtt-authd sends. No Node HTTP service on this machine can answer faster; mqtt-authd is
// reported as a fraction of it. Run as a child process: `node ceiling-server.js` with PORT.
import http from 'node:http';

const HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': 0,
  'Cache-Control': 'no-store',
};

export function createCeilingServer(): http.Server {
  return http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, HEADERS);
      res.end();
    });
  });
}

if (require.main === module) {
  const server = createCeilingServer();
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
