// The ceiling: a bare node:http server that reads the body and answers 200 with the headers
// mqtt-authd sends. No Node HTTP service on this machine answers faster; mqtt-authd is
// reported as a fraction of it. A child of `npm run bench`; prints the port it listens on.
import http from 'node:http';

const HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': 0,
  'Cache-Control': 'no-store',
};
const server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, HEADERS);
    res.end();
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as { port: number }).port}`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
