// Herald's JavaScript client: goim packets over WebSocket, falling back to HTTP long-poll.
// No dependencies, no build step: an ES module for browsers (and any runtime with WebSocket,
// fetch and TextEncoder). Types are in herald.d.ts; the behaviours are described in
// docs/clients.md and checked by the client conformance suite in headless Chromium.
//
//   import { HeraldClient } from "./herald.js";
//   const client = new HeraldClient({
//     websocket: "wss://push.example.com/sub",
//     longpoll: "https://push.example.com:3104/sub",
//     token: { mid: 42, room_id: "live://1000", platform: "web", accepts: [1000] },
//     onMessage: (m) => console.log(m.op, m.body),
//     onState: (s) => console.log(s.state),
//   });
//   await client.connect();

const STREAMS = { 2: "room", 3: "user", 4: "broadcast" };
const OP = { heartbeat: 2, heartbeatReply: 3, disconnect: 6, auth: 7, authReply: 8, raw: 9, changeRoom: 12, sub: 14, unsub: 16 };

/** Why a call failed or the client stopped. `code` is one of the names below. */
export class HeraldError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "HeraldError";
    this.code = code; // "auth_refused" | "not_connected" | "connection_lost" | "timed_out" | "closed"
  }
}

/** The wait before a retry: exponential in the failed attempts, capped, jittered downwards. */
export function backoffDelay({ initialMs = 500, maxMs = 15000, multiplier = 2, jitter = 0.5 } = {}, attempt = 0, random = Math.random()) {
  const grown = Math.min(maxMs, initialMs * Math.pow(Math.max(1, multiplier), Math.min(Math.max(0, attempt), 64)));
  return grown * (1 - Math.min(1, Math.max(0, jitter)) * Math.min(Math.max(0, random), 1));
}

export class HeraldClient {
  /**
   * @param {object} options see herald.d.ts
   */
  constructor({
    websocket = [], longpoll = [], token = {}, onMessage = () => {}, onState = () => {},
    recover = true, heartbeatMs = 30000, heartbeatTimeoutMs = 10000, wsTimeoutMs = 3000, authTimeoutMs = 10000,
    requestTimeoutMs = 10000, backoff = {}, stableAfterMs = 10000, maxAuthRefusals = 5,
  } = {}) {
    this.websocket = [].concat(websocket);
    this.longpoll = [].concat(longpoll);
    this.token = { ...token };
    Object.assign(this, {
      onMessage, onState, recover, heartbeatMs, heartbeatTimeoutMs, wsTimeoutMs, authTimeoutMs, requestTimeoutMs, stableAfterMs, maxAuthRefusals,
    });
    this.backoff = { initialMs: 500, maxMs: 15000, multiplier: 2, jitter: 0.5, ...backoff };
    this.positions = {};      // stream ("room", "user", "broadcast") -> {epoch, offset}
    this.state = "idle";
    this.stats = { attempts: 0, accepted: 0 };
    this.failures = 0;        // failed attempts since the last accepted connection
    this.refusals = 0;
    this.endpoint = 0;        // index into the endpoints of the current transport
    this.transport = this.websocket.length ? "websocket" : "longpoll";
    this.waiters = [];        // {reply op, resolve, reject, timer}
    this.generation = 0;
    this.encoder = new TextEncoder();
    this.decoder = new TextDecoder();
    this.firstConnection = [];
  }

  /** Starts the client; resolves once the server accepted a connection, rejects if it stops first. */
  connect() {
    if (this.stopped) return Promise.reject(new HeraldError(this.stopReason || "closed"));
    if (this.state === "connected") return Promise.resolve();
    const accepted = new Promise((resolve, reject) => this.firstConnection.push({ resolve, reject }));
    if (!this.started) {
      this.started = true;
      this.attempt();
    }
    return accepted;
  }

  /** Moves the connection to `room` ("" leaves it); resolves with the room the server put it in. */
  async changeRoom(room) {
    const reply = await this.request(OP.changeRoom, room);
    if (reply !== this.token.room_id) delete this.positions.room;
    this.token.room_id = reply;
    return reply;
  }

  /** Adds operations; resolves with those the server granted. */
  async subscribe(ops) {
    const granted = parseOps(await this.request(OP.sub, ops.join(",")));
    const accepts = new Set(this.token.accepts || []);
    for (const op of granted) accepts.add(op);
    this.token.accepts = [...accepts];
    return granted;
  }

  /** Removes operations. */
  async unsubscribe(ops) {
    const removed = new Set(parseOps(await this.request(OP.unsub, ops.join(","))));
    this.token.accepts = (this.token.accepts || []).filter((op) => !removed.has(op));
  }

  /** Sends a heartbeat now; resolves with the room's online count. */
  async heartbeat() {
    const body = await this.request(OP.heartbeat, "", true);
    return body.byteLength >= 4 ? new DataView(body.buffer, body.byteOffset, 4).getInt32(0) : 0;
  }

  /** Ends the current connection as a lost network would; the client comes back by itself. */
  drop() {
    if (this.started && !this.stopped && this.state !== "waiting") this.ended(this.generation, "lost");
  }

  /** Stops the client for good. */
  close() {
    this.stop("closed");
  }

  // --- the connection loop ---

  setState(state, info = {}) {
    this.state = state;
    this.onState({ state, transport: this.transport, ...info });
  }

  stop(reason) {
    if (this.stopped) return;
    this.stopped = true;
    this.closeSessions = true;
    this.stopReason = reason;
    clearTimeout(this.retry);
    this.endConnection();
    this.failWaiters(reason);
    for (const w of this.firstConnection.splice(0)) w.reject(new HeraldError(reason));
    this.setState("stopped", { reason });
  }

  endConnection() {
    this.generation += 1;
    // A long-poll session the client leaves is closed on the server too (a lost network is not:
    // drop() leaves it to the server's heartbeat timeout, as a real loss would).
    if (this.session && this.closeSessions) {
      const { base, id } = this.session;
      fetch(`${base}/close?session=${id}`, { method: "POST" }).catch(() => {});
    }
    clearInterval(this.beat);
    clearTimeout(this.authTimer);
    if (this.abort) this.abort.abort();
    if (this.ws) { try { this.ws.close(); } catch (e) {} }
    this.ws = undefined;
    this.session = undefined;
  }

  endpoints() {
    return this.transport === "websocket" ? this.websocket : this.longpoll;
  }

  currentEndpoint() {
    const list = this.endpoints();
    return list[this.endpoint % list.length];
  }

  attempt() {
    if (this.stopped) return;
    this.stats.attempts += 1;
    this.accepted = false;
    this.acceptedAt = undefined;
    this.drained = false;
    this.setState("connecting", { endpoint: this.currentEndpoint(), attempt: this.failures });
    if (this.transport === "websocket") this.openWebSocket();
    else this.openLongPoll();
  }

  // How a connection ended: "unreachable", "refused", "lost" (after op 8 or an auth timeout), "drained".
  ended(generation, how) {
    if (generation !== this.generation || this.stopped) return;
    const lived = this.accepted ? Date.now() - this.acceptedAt : undefined;
    this.endConnection();
    this.accepted = false;
    this.failWaiters("connection_lost");
    if (how === "refused") {
      // Closed after op 7 without op 8: the token was refused, or the server could not reach its
      // auth backend. Retried with the backoff on the next endpoint; stopped after maxAuthRefusals.
      this.refusals += 1;
      if (this.refusals >= this.maxAuthRefusals) return this.stop("auth_refused");
    }
    if (how === "unreachable" && this.transport === "websocket" && !this.everAccepted && this.longpoll.length
        && this.endpoint + 1 >= this.websocket.length) {
      // No WebSocket endpoint ever took us: fall back to long-poll (proxies that break WebSockets).
      this.transport = "longpoll";
      this.endpoint = 0;
    } else if (how === "unreachable" || how === "drained" || how === "refused") {
      this.endpoint += 1;
    }
    if (lived !== undefined) this.refusals = 0;
    let delay;
    if (how === "drained") {
      this.failures = 0;
      this.refusals = 0;
      delay = backoffDelay(this.backoff, 0);
    } else {
      // A connection that lasted starts the backoff afresh; one lost at once keeps it growing.
      if (lived !== undefined && lived >= this.stableAfterMs) this.failures = 0;
      delay = backoffDelay(this.backoff, this.failures);
      this.failures += 1;
    }
    this.setState("waiting", { retryInMs: delay });
    this.retry = setTimeout(() => this.attempt(), delay);
  }

  // The op-7 body: the token, and where to recover from.
  authBody() {
    if (!this.recover) return JSON.stringify(this.token);
    const known = Object.keys(this.positions).length > 0;
    return JSON.stringify({ ...this.token, recover: known ? this.positions : true });
  }

  // op 8: the outcome of a recovery, and the positions after the replay.
  authenticated(body) {
    this.accepted = true;
    this.acceptedAt = Date.now();
    this.everAccepted = true;
    this.stats.accepted += 1;
    clearTimeout(this.authTimer);
    let outcome = {};
    if (body) { try { outcome = JSON.parse(body); } catch (e) {} }
    for (const [stream, at] of Object.entries(outcome.streams || {})) this.positions[stream] = at;
    this.setState("connected", { endpoint: this.currentEndpoint(), recovered: outcome.recovered });
    for (const w of this.firstConnection.splice(0)) w.resolve();
  }

  // A packet after op 8 (a reply, op 6, or a push).
  received(op, body, ver, seq) {
    if (op === OP.heartbeatReply) {
      this.heartbeatSentAt = undefined;
      return this.resolve(op, body);
    }
    if (op === OP.changeRoom + 1 || op === OP.sub + 1 || op === OP.unsub + 1) return this.resolve(op, body);
    if (op === OP.disconnect) { this.drained = true; return; }
    if (op === OP.authReply) return;
    const stream = STREAMS[ver];
    let offset = 0;
    if (stream) {
      offset = seq >>> 0;
      const at = this.positions[stream];
      if (at) {
        // seq holds the low 32 bits of the offset; take the high bits from the position known
        // (one more when the low bits wrapped upwards, one less for a message from before a wrap).
        const high = Math.floor(at.offset / 4294967296) * 4294967296;
        offset = high + offset;
        if (offset + 2147483648 < at.offset) offset += 4294967296;
        else if (offset > at.offset + 2147483648 && offset >= 4294967296) offset -= 4294967296;
        if (offset > at.offset) at.offset = offset;
      }
    }
    this.onMessage({ op, body: this.decoder.decode(body), bytes: body, stream, offset });
  }

  // --- WebSocket ---

  openWebSocket() {
    const generation = this.generation;
    let ws;
    try { ws = new WebSocket(this.currentEndpoint()); } catch (e) { return setTimeout(() => this.ended(generation, "unreachable")); }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    let opened = false;
    // A socket that does not open in time counts as unreachable (and may send the client to
    // long-poll); one that opens has authTimeoutMs for op 8 (the server reads history first).
    this.authTimer = setTimeout(() => this.ended(generation, "unreachable"), this.wsTimeoutMs);
    ws.onopen = () => {
      opened = true;
      clearTimeout(this.authTimer);
      this.authTimer = setTimeout(() => this.ended(generation, "lost"), this.authTimeoutMs);
      ws.send(packet(this.encoder, OP.auth, this.authBody()));
    };
    ws.onclose = () => {
      if (!opened) return this.ended(generation, "unreachable");
      if (!this.accepted) return this.ended(generation, "refused");
      this.ended(generation, this.drained ? "drained" : "lost");
    };
    ws.onmessage = (event) => {
      if (generation !== this.generation) return;
      for (const [op, body, ver, seq] of unpack(event.data)) {
        if (!this.accepted) {
          if (op !== OP.authReply) continue;
          this.authenticated(this.decoder.decode(body));
          this.heartbeatSentAt = undefined;
          this.beat = setInterval(() => {
            // While a heartbeat is unanswered no other is sent; one unanswered for
            // heartbeatTimeoutMs means the server is gone without a word.
            if (this.heartbeatSentAt !== undefined) {
              if (Date.now() - this.heartbeatSentAt >= this.heartbeatTimeoutMs) this.ended(generation, "lost");
              return;
            }
            this.heartbeatSentAt = Date.now();
            ws.send(packet(this.encoder, OP.heartbeat, ""));
          }, this.heartbeatMs);
          continue;
        }
        this.received(op, body, ver, seq);
      }
    };
  }

  // --- long-poll ---

  async openLongPoll() {
    const generation = this.generation;
    const base = this.currentEndpoint();
    let session;
    try {
      const auth = await fetch(`${base}/auth`, { method: "POST", body: this.authBody() });
      if (auth.status === 403) return this.ended(generation, "refused");
      if (!auth.ok) return this.ended(generation, "unreachable");
      const data = (await auth.json()).data;
      session = data.session;
      if (generation !== this.generation) {
        // The client moved on while the session was made: close it rather than leave it open.
        fetch(`${base}/close?session=${session}`, { method: "POST" }).catch(() => {});
        return;
      }
      this.session = { base, id: session };
      this.authenticated(data.reply ? JSON.stringify(data.reply) : "");
    } catch (e) {
      return this.ended(generation, "unreachable");
    }
    let ack = 0;
    while (generation === this.generation && !this.stopped) {
      let reply;
      try {
        this.abort = new AbortController();
        const response = await fetch(`${base}/poll?session=${session}&ack=${ack}`, { signal: this.abort.signal });
        reply = await response.json();
      } catch (e) {
        return this.ended(generation, "lost");
      }
      if (generation !== this.generation) return;
      if (reply.code !== 0) return this.ended(generation, "lost");
      for (const m of reply.data.messages) {
        if (generation !== this.generation) return;
        if (m.seq <= ack) continue;
        ack = m.seq;
        if (m.op === OP.disconnect) { this.drained = true; continue; }
        const bytes = m.base64 ? Uint8Array.from(atob(m.body), (c) => c.charCodeAt(0)) : this.encoder.encode(m.body);
        this.received(m.op, bytes, m.stream ? { room: 2, user: 3, broadcast: 4 }[m.stream] : m.ver, m.offset || 0);
      }
      if (reply.data.closed) return this.ended(generation, this.drained ? "drained" : "lost");
    }
  }

  // --- calls answered by the server ---

  request(op, text, binary = false) {
    if (this.stopped) return Promise.reject(new HeraldError(this.stopReason || "closed"));
    if (!this.accepted) return Promise.reject(new HeraldError("not_connected"));
    const generation = this.generation;
    if (this.transport === "longpoll") return this.longPollRequest(op, text, binary, generation);
    return new Promise((resolve, reject) => {
      const waiter = { reply: op + 1, binary, resolve, reject };
      waiter.timer = setTimeout(() => this.settle(waiter, new HeraldError("timed_out")), this.requestTimeoutMs);
      this.waiters.push(waiter);
      this.ws.send(packet(this.encoder, op, text));
    });
  }

  async longPollRequest(op, text, binary, generation) {
    const { base, id } = this.session;
    let reply;
    try {
      const response = await fetch(`${base}/op?session=${id}&op=${op}`, { method: "POST", body: text });
      reply = await response.json();
    } catch (e) {
      throw new HeraldError("connection_lost");
    }
    if (generation !== this.generation) throw new HeraldError("connection_lost");
    const answer = (reply.data && reply.data.replies || []).find((r) => r.op === op + 1);
    if (reply.code !== 0 || !answer) throw new HeraldError("connection_lost");
    const bytes = answer.base64 ? Uint8Array.from(atob(answer.body), (c) => c.charCodeAt(0)) : this.encoder.encode(answer.body);
    return binary ? bytes : this.decoder.decode(bytes);
  }

  resolve(op, body) {
    const waiter = this.waiters.find((w) => w.reply === op);
    if (waiter) this.settle(waiter, null, waiter.binary ? body : this.decoder.decode(body));
  }

  settle(waiter, error, value) {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    if (error) waiter.reject(error); else waiter.resolve(value);
  }

  failWaiters(code) {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new HeraldError(code));
    }
  }
}

function parseOps(text) {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number).filter(Number.isInteger);
}

// A goim packet: 16-byte big-endian header, then the body.
function packet(encoder, op, text) {
  const body = encoder.encode(text);
  const buffer = new ArrayBuffer(16 + body.length);
  const view = new DataView(buffer);
  view.setInt32(0, 16 + body.length);
  view.setInt16(4, 16);
  view.setInt16(6, 1);
  view.setInt32(8, op);
  view.setInt32(12, 1);
  new Uint8Array(buffer, 16).set(body);
  return buffer;
}

// One WebSocket message: a packet, or an op-9 envelope of packets, as [op, body bytes, ver, seq].
function unpack(data) {
  const view = new DataView(data);
  const out = [];
  const read = (offset, end) => {
    while (offset + 16 <= end) {
      const length = view.getInt32(offset);
      if (length < 16 || offset + length > end) return;
      const op = view.getInt32(offset + 8);
      if (op === OP.raw) read(offset + 16, offset + length);
      else out.push([op, new Uint8Array(data, offset + 16, length - 16), view.getInt16(offset + 6), view.getInt32(offset + 12)]);
      offset += length;
    }
  };
  read(0, data.byteLength);
  return out;
}
