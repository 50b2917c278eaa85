// A TCP proxy a test puts between a process and Redis, to partition them without closing
// anything: `silence()` keeps every connection open but forwards nothing either way (a
// partition, a dead switch: no FIN, no RST), `heal()` forwards again; `cut()` closes them all.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections made through it so far. */
  readonly connections: number;
  silence(): void;
  heal(): void;
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let silent = false;
  let made = 0;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    made++;
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (!silent) to.write(chunk); // silent: dropped, as a partition would
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = () => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return made;
    },
    silence: () => void (silent = true),
    heal: () => void (silent = false),
    cut,
    close: () => {
      cut();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
