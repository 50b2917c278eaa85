// A minimal HTTP/1.1 keep-alive client connection for the paced generator: requests are
// prebuilt buffers, answers are parsed only as far as status and Content-Length. node:http's
// client costs several times more CPU per request, and on two cores that CPU is the server's.
import net from 'node:net';
import type { CheckRequest } from './bodies';

export function encodeRequest(r: CheckRequest, host: string): Buffer {
  const body = Buffer.from(r.body, 'utf8');
  const head = [`POST ${r.path} HTTP/1.1`, `Host: ${host}`, `Content-Length: ${body.length}`];
  for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${String(v)}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** One socket, one request at a time (the go-auth plugin does not pipeline either). */
export class RawConnection {
  private readonly socket: net.Socket;
  private received = '';
  private onAnswer: ((status: number) => void) | null = null;
  busy = false;

  private constructor(socket: net.Socket, onError: (err: Error) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.read(chunk));
    socket.on('error', onError);
  }

  static open(port: number, onError: (err: Error) => void): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RawConnection(socket, onError)));
      socket.once('error', reject);
    });
  }

  send(request: Buffer, onAnswer: (status: number) => void): void {
    this.busy = true;
    this.onAnswer = onAnswer;
    this.socket.write(request);
  }

  private read(chunk: Buffer): void {
    this.received += chunk.toString('latin1');
    const end = this.received.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = this.received.slice(0, end);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    if (this.received.length < end + 4 + length) return;
    this.received = this.received.slice(end + 4 + length);
    const done = this.onAnswer;
    this.onAnswer = null;
    this.busy = false;
    done?.(Number(head.slice(9, 12)));
  }

  close(): void {
    this.socket.destroy();
  }
}
