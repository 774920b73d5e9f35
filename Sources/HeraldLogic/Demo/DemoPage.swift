/// The browser demo served at `/demo` on the API port: a page and Herald's small JavaScript client
/// (`/demo/herald.js`) that connects over WebSocket and falls back to long-poll.
enum DemoPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Herald demo</title>
        <style>
          body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; max-width: 48em; }
          #status { font-weight: bold; }
          #messages li { font-family: ui-monospace, monospace; }
          form { margin: 1em 0; }
        </style>
        </head>
        <body>
        <h1>Herald demo</h1>
        <p>Transport: <span id="transport">-</span> · status: <span id="status">connecting</span></p>
        <form id="push">
          <input id="text" value="hello from the demo" size="40">
          <button>push to room</button>
        </form>
        <p id="selftest-line">Self-test text: <span id="selftest"></span></p>
        <p id="recovertest-line">Recovery test: <span id="recovertest"></span> recovered: <span id="recovered"></span></p>
        <ul id="messages"></ul>
        <script src="/demo/herald.js"></script>
        <script>
          const params = new URLSearchParams(location.search);
          // ?selftest=1 (the automated browser test): join a room of random name, push a random text to
          // it once connected, and show both. A link can choose neither the room nor the text, so it
          // cannot make a visitor's browser push to anyone.
          const selftest = params.get("selftest") === "1";
          // ?recovertest=1 (the automated browser test of recovery): join a room of random name, push
          // r0…r2 to it, drop the connection after they arrived, push r3…r9 while it is gone, and show
          // what arrived once the client reconnected and recovered.
          const recovertest = params.get("recovertest") === "1";
          const nonce = Math.random().toString(36).slice(2);
          const room = selftest ? `demo://selftest-${nonce}` : recovertest ? `demo://recover-${nonce}` : (params.get("room") || "demo://1");
          const got = [];
          let connects = 0;
          const pushRoom = async (text) => {
            const [type, id] = room.split("://");
            await fetch(`/goim/push/room?operation=1000&type=${encodeURIComponent(type)}&room=${encodeURIComponent(id)}`,
                        { method: "POST", body: text });
          };
          if (selftest) {
            document.getElementById("text").value = `selftest-${nonce}`;
            document.getElementById("selftest").textContent = `selftest-${nonce}`;
          }
          const client = new HeraldClient({
            ws: params.get("ws") || `ws://${location.hostname}:3102/sub`,
            longpoll: params.get("lp") || `http://${location.hostname}:3104/sub`,
            token: { mid: Number(params.get("mid") || 1), room_id: room, platform: "web", accepts: [1000] },
            wsTimeoutMs: Number(params.get("wstimeout") || 3000),
            recover: recovertest || params.get("recover") === "1",
            backoffMs: recovertest ? 100 : 500,
            onStatus: async (transport, status, info) => {
              document.getElementById("transport").textContent = transport;
              document.getElementById("status").textContent = status;
              if (status === "connected" && selftest) document.getElementById("push").requestSubmit();
              if (status === "connected" && recovertest) {
                connects += 1;
                if (connects === 1) { for (let i = 0; i < 3; i++) await pushRoom(`r${i}`); }
                else document.getElementById("recovered").textContent = String(info.recovered);
              }
            },
            onMessage: async (op, body) => {
              const li = document.createElement("li");
              li.textContent = `op ${op}: ${body}`;
              document.getElementById("messages").appendChild(li);
              // In the self-test, stop once our own push came back so the page goes idle.
              if (selftest && body === `selftest-${nonce}`) client.stop();
              if (recovertest && op === 1000) {
                got.push(body);
                if (got.length === 3 && connects === 1) {
                  client.drop();
                  for (let i = 3; i < 10; i++) await pushRoom(`r${i}`);
                }
                if (got.length >= 10) {
                  document.getElementById("recovertest").textContent = got.join(",");
                  client.stop();
                }
              }
            },
          });
          client.connect();
          if (recovertest) {
            // Keep the page busy on the network until the test is through, so a headless browser's
            // virtual clock does not run past WebSocket handshakes it does not wait for (and fire the
            // fallback's timer instead).
            (async () => {
              for (let i = 0; i < 3000 && got.length < 10; i++) {
                await fetch("/goim/online/total");
                await new Promise((r) => setTimeout(r, 20));
              }
            })();
          }
          document.getElementById("push").addEventListener("submit", async (event) => {
            event.preventDefault();
            const [type, id] = room.split("://");
            await fetch(`/goim/push/room?operation=1000&type=${encodeURIComponent(type)}&room=${encodeURIComponent(id)}`,
                        { method: "POST", body: document.getElementById("text").value });
            // In the self-test, keep the page busy on the network briefly so the message can arrive
            // before a headless browser's virtual clock ends the run.
            if (selftest) {
              for (let i = 0; i < 5 && !document.querySelector("#messages li"); i++) {
                await fetch("/goim/online/total");
                await new Promise((r) => setTimeout(r, 20));
              }
            }
          });
        </script>
        </body>
        </html>
        """#

    static let script = #"""
        // Herald's JavaScript client: goim packets over WebSocket, falling back to HTTP long-poll.
        // With `recover: true` (and [history] on in the server) it remembers where it is in its room's
        // and its user's stream and, after a lost connection, reconnects with jittered exponential
        // backoff and gets what it missed: every message once, in order, or onStatus(…, "connected",
        // {recovered: false}) when history could not cover the gap.
        class HeraldClient {
          constructor({ ws, longpoll, token, onMessage, onStatus, heartbeatMs = 30000, wsTimeoutMs = 3000,
                        recover = false, reconnect = true, backoffMs = 500, backoffMaxMs = 15000 }) {
            Object.assign(this, { wsURL: ws, lpURL: longpoll, token, onMessage, onStatus, heartbeatMs, wsTimeoutMs,
                                  recover, reconnect, backoffMs, backoffMaxMs });
            this.encoder = new TextEncoder();
            this.decoder = new TextDecoder();
            this.positions = {};   // stream ("room", "user", "broadcast") -> {offset, epoch}
            this.attempt = 0;
          }

          stop() {
            this.stopped = true;
            clearTimeout(this.retry);
            this.drop();
          }

          // Ends the current connection as a lost network would; with `reconnect` the client comes back.
          drop() {
            this.generation = (this.generation || 0) + 1;
            if (this.abort) this.abort.abort();
            if (this.ws) this.ws.close();
            clearInterval(this.heartbeat);
          }

          // The op-7 body: the token, and where to recover from.
          authBody() {
            if (!this.recover) return JSON.stringify(this.token);
            const known = Object.keys(this.positions).length > 0;
            return JSON.stringify({ ...this.token, recover: known ? this.positions : true });
          }

          // The op-8 body of a recovering connection: the outcome and the positions after the replay.
          authenticated(transport, body) {
            this.attempt = 0;
            let outcome = {};
            if (body) { try { outcome = JSON.parse(body); } catch (e) {} }
            for (const [stream, at] of Object.entries(outcome.streams || {})) this.positions[stream] = at;
            this.onStatus(transport, "connected", { recovered: outcome.recovered });
          }

          // A push: a stored one names its stream (packet `ver` 2 room, 3 user, 4 broadcast) and offset (`seq`).
          delivered(op, body, stream, offset) {
            if (stream && this.positions[stream]) this.positions[stream].offset = offset;
            this.onMessage(op, body, stream ? { stream, offset } : undefined);
          }

          lost(transport) {
            clearInterval(this.heartbeat);
            if (this.stopped) return;
            this.onStatus(transport, "closed");
            if (!this.reconnect) return;
            const delay = Math.min(this.backoffMaxMs, this.backoffMs * 2 ** this.attempt) * (0.5 + Math.random());
            this.attempt += 1;
            this.retry = setTimeout(() => (this.transport === "longpoll" ? this.connectLongPoll() : this.connect()), delay);
          }

          connect() {
            let settled = false;
            const fallback = () => { if (!settled) { settled = true; this.connectLongPoll(); } };
            let ws;
            try { ws = new WebSocket(this.wsURL); } catch (e) { return fallback(); }
            this.ws = ws;
            ws.binaryType = "arraybuffer";
            const timer = setTimeout(() => { try { ws.close(); } catch (e) {} fallback(); }, this.wsTimeoutMs);
            ws.onopen = () => ws.send(this.packet(7, this.authBody()));
            ws.onerror = () => { clearTimeout(timer); fallback(); };
            ws.onclose = () => {
              if (settled && this.transport === "websocket" && this.ws === ws) this.lost("websocket");
            };
            ws.onmessage = (event) => {
              for (const [op, body, ver, seq] of this.unpack(event.data)) {
                if (op === 8) {
                  clearTimeout(timer);
                  settled = true;
                  this.transport = "websocket";
                  this.heartbeat = setInterval(() => ws.send(this.packet(2, "")), this.heartbeatMs);
                  this.authenticated("websocket", body);
                } else if (op !== 3) {
                  // A room change: the room position named another room's stream.
                  if (op === 13) delete this.positions.room;
                  this.delivered(op, body, HeraldClient.streams[ver], seq >>> 0);
                }
              }
            };
          }

          async connectLongPoll() {
            this.transport = "longpoll";
            this.onStatus("longpoll", "connecting");
            let session;
            try {
              const auth = await fetch(`${this.lpURL}/auth`, { method: "POST", body: this.authBody() });
              if (!auth.ok) { this.onStatus("longpoll", "refused"); return; }
              const data = (await auth.json()).data;
              session = data.session;
              this.authenticated("longpoll", data.reply ? JSON.stringify(data.reply) : "");
            } catch (e) {
              return this.lost("longpoll");
            }
            let ack = 0;
            const generation = this.generation;
            while (!this.stopped) {
              if (generation !== this.generation) return this.lost("longpoll");
              let reply;
              try {
                this.abort = new AbortController();
                const response = await fetch(`${this.lpURL}/poll?session=${session}&ack=${ack}`, { signal: this.abort.signal });
                reply = await response.json();
              } catch (e) {
                return this.lost("longpoll");
              }
              if (reply.code !== 0) return this.lost("longpoll");
              for (const m of reply.data.messages) {
                if (generation !== this.generation) break;
                if (m.seq <= ack) continue;
                ack = m.seq;
                this.delivered(m.op, m.base64 ? atob(m.body) : m.body, m.stream, m.offset);
              }
              if (reply.data.closed) return this.lost("longpoll");
            }
          }

          packet(op, text) {
            const body = this.encoder.encode(text);
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

          // One WebSocket message: a packet, or an op-9 envelope of packets, as [op, body, ver, seq].
          unpack(data) {
            const view = new DataView(data);
            const out = [];
            const read = (offset, end) => {
              while (offset + 16 <= end) {
                const length = view.getInt32(offset);
                const op = view.getInt32(offset + 8);
                if (op === 9) {
                  read(offset + 16, offset + length);
                } else {
                  const body = this.decoder.decode(new Uint8Array(data, offset + 16, length - 16));
                  out.push([op, body, view.getInt16(offset + 6), view.getInt32(offset + 12)]);
                }
                offset += length;
              }
            };
            read(0, data.byteLength);
            return out;
          }
        }
        HeraldClient.streams = { 2: "room", 3: "user", 4: "broadcast" };
        """#
}
