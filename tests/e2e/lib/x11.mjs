// A minimal X11 protocol client (no dependencies): enough to find a process's top-level window
// and ask it to close the way a window manager's close button does (a WM_DELETE_WINDOW client
// message). The desktop app then runs its normal exit path (Tauri's RunEvent::Exit), which a
// WebDriver session end cannot give it: WebKitWebDriver ends a session with SIGKILL.
import net from "node:net";

const OP = { GetWindowAttributes: 3, QueryTree: 15, InternAtom: 16, GetProperty: 20, SendEvent: 25, GetInputFocus: 43 };
const pad4 = (n) => (4 - (n % 4)) % 4;

export class X11 {
  static async connect(display = process.env.DISPLAY, timeoutMs = 5000) {
    const m = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display ?? "");
    if (!m) throw new Error(`DISPLAY '${display}' is not a local display like :97`);
    const path = `/tmp/.X11-unix/X${m[1]}`;
    const x = new X11();
    await x.#open(path, timeoutMs);
    return x;
  }

  #sock;
  #buf = Buffer.alloc(0);
  #waiters = []; // resolves for the next packet
  #seq = 0;
  #errors = new Map(); // sequence number -> error code
  #closed = null;
  root = 0;

  async #open(path, timeoutMs) {
    this.#sock = net.createConnection(path);
    this.#sock.on("data", (d) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#pump();
    });
    const onEnd = (e) => {
      this.#closed = e ?? new Error("X server closed the connection");
      for (const w of this.#waiters.splice(0)) w.reject(this.#closed);
    };
    this.#sock.on("error", onEnd);
    this.#sock.on("close", () => onEnd());
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no X server answered on ${path} within ${timeoutMs} ms`)), timeoutMs);
      this.#sock.once("connect", () => (clearTimeout(t), resolve()));
      this.#sock.once("error", (e) => (clearTimeout(t), reject(new Error(`cannot connect to the X server at ${path}: ${e.message}`))));
    });
    // Connection setup: little endian, protocol 11.0, no authorization.
    const setup = Buffer.alloc(12);
    setup.write("l", 0, "latin1");
    setup.writeUInt16LE(11, 2);
    this.#sock.write(setup);
    const head = await this.#read(8, timeoutMs);
    const rest = await this.#read(head.readUInt16LE(6) * 4, timeoutMs);
    if (head[0] !== 1) {
      throw new Error(`the X server refused the connection: ${rest.toString("latin1", 0, head[1]) || `status ${head[0]}`}`);
    }
    // rest starts at offset 8 of the reply: vendor length at 16, number of formats at 21, vendor at 32.
    const vendorLen = rest.readUInt16LE(16);
    const formats = rest[21];
    const screen = 32 + vendorLen + pad4(vendorLen) + formats * 8;
    this.root = rest.readUInt32LE(screen);
    this.#setupDone = true;
    this.#pump();
  }

  #setupDone = false;
  #raw = []; // raw readers during setup

  #read(n, timeoutMs) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("the X server did not answer the connection setup")), timeoutMs);
      this.#raw.push({ n, resolve: (b) => (clearTimeout(t), resolve(b)) });
      this.#pump();
    });
  }

  #pump() {
    while (!this.#setupDone && this.#raw.length && this.#buf.length >= this.#raw[0].n) {
      const r = this.#raw.shift();
      const b = this.#buf.subarray(0, r.n);
      this.#buf = this.#buf.subarray(r.n);
      r.resolve(Buffer.from(b));
    }
    if (!this.#setupDone) return;
    while (this.#buf.length >= 32) {
      const kind = this.#buf[0];
      const len = kind === 1 ? 32 + this.#buf.readUInt32LE(4) * 4 : 32;
      if (this.#buf.length < len) return;
      const pkt = Buffer.from(this.#buf.subarray(0, len));
      this.#buf = this.#buf.subarray(len);
      const seq = pkt.readUInt16LE(2);
      if (kind === 0) {
        this.#errors.set(seq, pkt[1]);
        const w = this.#waiters.find((x) => x.seq === seq);
        if (w) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.reject(new Error(`X error ${pkt[1]} for request ${w.what}`));
        }
      } else if (kind === 1) {
        const w = this.#waiters.find((x) => x.seq === seq);
        if (w) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(pkt);
        }
      } // events: none selected, ignored
    }
  }

  #request(op, data1, body, what, hasReply = true) {
    if (this.#closed) throw this.#closed;
    const len = 4 + body.length;
    const req = Buffer.alloc(len + pad4(len));
    req[0] = op;
    req[1] = data1;
    req.writeUInt16LE(req.length / 4, 2);
    body.copy(req, 4);
    this.#seq = (this.#seq + 1) & 0xffff;
    const seq = this.#seq;
    this.#sock.write(req);
    if (!hasReply) return Promise.resolve(seq);
    return new Promise((resolve, reject) => this.#waiters.push({ seq, what, resolve, reject }));
  }

  async atom(name) {
    const n = Buffer.from(name, "latin1");
    const body = Buffer.alloc(4 + n.length + pad4(n.length));
    body.writeUInt16LE(n.length, 0);
    n.copy(body, 4);
    const r = await this.#request(OP.InternAtom, 0, body, `InternAtom ${name}`);
    return r.readUInt32LE(8);
  }

  async children(window) {
    const body = Buffer.alloc(4);
    body.writeUInt32LE(window, 0);
    const r = await this.#request(OP.QueryTree, 0, body, "QueryTree");
    const n = r.readUInt16LE(16);
    return Array.from({ length: n }, (_, i) => r.readUInt32LE(32 + 4 * i));
  }

  /** The property as 32-bit values (format 32 properties only), or [] when it is absent. */
  async property32(window, atom) {
    const body = Buffer.alloc(20);
    body.writeUInt32LE(window, 0);
    body.writeUInt32LE(atom, 4);
    body.writeUInt32LE(0, 8); // AnyPropertyType
    body.writeUInt32LE(0, 12);
    body.writeUInt32LE(64, 16);
    const r = await this.#request(OP.GetProperty, 0, body, "GetProperty");
    if (r[1] !== 32) return [];
    const n = r.readUInt32LE(16);
    return Array.from({ length: n }, (_, i) => r.readUInt32LE(32 + 4 * i));
  }

  async viewable(window) {
    const body = Buffer.alloc(4);
    body.writeUInt32LE(window, 0);
    const r = await this.#request(OP.GetWindowAttributes, 0, body, "GetWindowAttributes");
    return r[26] === 2;
  }

  /** Mapped top-level windows of process `pid` that accept WM_DELETE_WINDOW. */
  async closableWindowsOf(pid) {
    const [netWmPid, protocols, deleteWindow] = await Promise.all([
      this.atom("_NET_WM_PID"),
      this.atom("WM_PROTOCOLS"),
      this.atom("WM_DELETE_WINDOW"),
    ]);
    const found = [];
    for (const w of await this.children(this.root)) {
      let owner, protos, mapped;
      try {
        [owner, protos, mapped] = await Promise.all([this.property32(w, netWmPid), this.property32(w, protocols), this.viewable(w)]);
      } catch {
        continue; // the window went away meanwhile
      }
      if (owner[0] === pid && mapped && protos.includes(deleteWindow)) found.push(w);
    }
    return { windows: found, protocols, deleteWindow };
  }

  /** Sends WM_DELETE_WINDOW to every mapped top-level window of `pid`; returns how many. */
  async requestClose(pid) {
    const { windows, protocols, deleteWindow } = await this.closableWindowsOf(pid);
    for (const w of windows) {
      const body = Buffer.alloc(40);
      body.writeUInt32LE(w, 0); // destination
      body.writeUInt32LE(0, 4); // event mask: none, sent to the window's owner
      body[8] = 33; // ClientMessage
      body[9] = 32; // format
      body.writeUInt32LE(w, 12);
      body.writeUInt32LE(protocols, 16);
      body.writeUInt32LE(deleteWindow, 20);
      body.writeUInt32LE(0, 24); // CurrentTime
      const seq = await this.#request(OP.SendEvent, 0, body, "SendEvent", false);
      await this.#request(OP.GetInputFocus, 0, Buffer.alloc(0), "GetInputFocus"); // round trip: errors arrived
      if (this.#errors.has(seq)) throw new Error(`X error ${this.#errors.get(seq)} sending WM_DELETE_WINDOW to window ${w}`);
    }
    return windows.length;
  }

  close() {
    this.#sock?.destroy();
  }
}
