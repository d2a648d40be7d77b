/**
 * The load generator's cheapest HTTP/1.1 client, for the read-path slices:
 * each keep-alive connection writes a request as one string and reads back
 * only the status line and the Content-Length framing of the answer. Node's
 * own client costs about as much CPU per request as the API spends answering
 * GET /healthz, so on two cores the generator, not the API, set the pace of
 * the cheapest calls, and a poll that sends a 300-character token cost the
 * generator more than /healthz did. With this client the API is the busy one.
 *
 * Loopback only; an answer is framed by its Content-Length or its chunks
 * (a 204 or 304 has no body).
 */
import net from 'node:net';

interface Pending {
  request: string;
  resolve(status: number): void;
  reject(err: Error): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Where a chunked body that starts at `from` ends, or -1 while it is incomplete. */
function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const line = buf.indexOf('\r\n', at);
    if (line < 0) return -1;
    const size = parseInt(buf.toString('latin1', at, line), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    // Each chunk: size line, data, CRLF; the last (size 0) ends with an empty trailer line.
    at = line + 2 + size + 2;
    if (size === 0) return at <= buf.length ? at : -1;
    if (at > buf.length) return -1;
  }
}

class Connection {
  private socket: net.Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private current: Pending | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly done: (c: Connection) => void,
  ) {}

  send(p: Pending): void {
    this.current = p;
    if (!this.socket) this.socket = this.open();
    this.socket.write(p.request);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = (err: Error) => {
      // An old socket's close after a new one took over says nothing about the new one.
      if (this.socket !== socket) return;
      this.socket = null;
      this.buffer = Buffer.alloc(0);
      const p = this.current;
      this.current = null;
      p?.reject(err);
      if (p) this.done(this);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0 || !this.current) return;
    const head = this.buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let total: number;
    if (length) total = end + 4 + Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      try {
        total = chunkedEnd(this.buffer, end + 4);
      } catch (err) {
        this.current.reject(err as Error);
        this.current = null;
        this.close();
        return;
      }
    } else if (status === 204 || status === 304) total = end + 4;
    else {
      this.current.reject(new Error(`answer ${status} with no framing`));
      this.current = null;
      this.close();
      return;
    }
    if (total < 0 || this.buffer.length < total) return;
    this.buffer = this.buffer.subarray(total);
    const p = this.current;
    this.current = null;
    p.resolve(status);
    this.done(this);
  }
}

export class RawHttpClient {
  private readonly idle: Connection[] = [];
  private readonly waiting: Pending[] = [];
  private readonly all: Connection[] = [];
  private readonly hostHeader: string;

  constructor(base: string, connections = 64) {
    const u = new URL(base);
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
      throw new Error(`refusing to send load to ${u.hostname}: only loopback addresses are allowed`);
    }
    this.hostHeader = u.host;
    for (let i = 0; i < connections; i++) {
      const c = new Connection(u.hostname, Number(u.port), (free) => this.release(free));
      this.all.push(c);
      this.idle.push(c);
    }
  }

  /** Sends one bodyless request; resolves with the answer's status code. */
  request(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}): Promise<number> {
    let request = `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const name in headers) request += `${name}: ${headers[name]}\r\n`;
    if (method === 'POST') request += 'content-length: 0\r\n';
    request += '\r\n';
    return new Promise((resolve, reject) => {
      const p = { request, resolve, reject };
      const c = this.idle.pop();
      if (c) c.send(p);
      else this.waiting.push(p);
    });
  }

  close(): void {
    for (const c of this.all) c.close();
  }

  private release(c: Connection): void {
    const next = this.waiting.shift();
    if (next) c.send(next);
    else this.idle.push(c);
  }
}
