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
    <ul id="messages"></ul>
    <script src="/demo/herald.js"></script>
    <script>
      const params = new URLSearchParams(location.search);
      // ?selftest=1 (the automated browser test): join a room of random name, push a random text to
      // it once connected, and show both. A link can choose neither the room nor the text, so it
      // cannot make a visitor's browser push to anyone.
      const selftest = params.get("selftest") === "1";
      const nonce = Math.random().toString(36).slice(2);
      const room = selftest ? `demo://selftest-${nonce}` : (params.get("room") || "demo://1");
      if (selftest) {
        document.getElementById("text").value = `selftest-${nonce}`;
        document.getElementById("selftest").textContent = `selftest-${nonce}`;
      }
      const client = new HeraldClient({
        ws: params.get("ws") || `ws://${location.hostname}:3102/sub`,
        longpoll: params.get("lp") || `http://${location.hostname}:3104/sub`,
        token: { mid: Number(params.get("mid") || 1), room_id: room, platform: "web", accepts: [1000] },
        wsTimeoutMs: Number(params.get("wstimeout") || 3000),
        onStatus: (transport, status) => {
          document.getElementById("transport").textContent = transport;
          document.getElementById("status").textContent = status;
          if (status === "connected" && selftest) document.getElementById("push").requestSubmit();
        },
        onMessage: (op, body) => {
          const li = document.createElement("li");
          li.textContent = `op ${op}: ${body}`;
          document.getElementById("messages").appendChild(li);
          // In the self-test, stop once our own push came back so the page goes idle.
          if (selftest && body === `selftest-${nonce}`) client.stop();
        },
      });
      client.connect();
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
    class HeraldClient {
      constructor({ ws, longpoll, token, onMessage, onStatus, heartbeatMs = 30000, wsTimeoutMs = 3000 }) {
        Object.assign(this, { wsURL: ws, lpURL: longpoll, token, onMessage, onStatus, heartbeatMs, wsTimeoutMs });
        this.encoder = new TextEncoder();
        this.decoder = new TextDecoder();
      }

      stop() {
        this.stopped = true;
        if (this.abort) this.abort.abort();
        if (this.ws) this.ws.close();
        clearInterval(this.heartbeat);
      }

      connect() {
        let settled = false;
        const fallback = () => { if (!settled) { settled = true; this.connectLongPoll(); } };
        let ws;
        try { ws = new WebSocket(this.wsURL); } catch (e) { return fallback(); }
        this.ws = ws;
        ws.binaryType = "arraybuffer";
        const timer = setTimeout(() => { try { ws.close(); } catch (e) {} fallback(); }, this.wsTimeoutMs);
        ws.onopen = () => ws.send(this.packet(7, JSON.stringify(this.token)));
        ws.onerror = () => { clearTimeout(timer); fallback(); };
        ws.onclose = () => {
          if (settled && this.transport === "websocket" && !this.stopped) this.onStatus("websocket", "closed");
        };
        ws.onmessage = (event) => {
          for (const [op, body] of this.unpack(event.data)) {
            if (op === 8) {
              clearTimeout(timer);
              settled = true;
              this.transport = "websocket";
              this.onStatus("websocket", "connected");
              this.heartbeat = setInterval(() => ws.send(this.packet(2, "")), this.heartbeatMs);
            } else if (op !== 3) {
              this.onMessage(op, body);
            }
          }
        };
      }

      async connectLongPoll() {
        this.transport = "longpoll";
        this.onStatus("longpoll", "connecting");
        const auth = await fetch(`${this.lpURL}/auth`, { method: "POST", body: JSON.stringify(this.token) });
        if (!auth.ok) { this.onStatus("longpoll", "refused"); return; }
        const session = (await auth.json()).data.session;
        this.onStatus("longpoll", "connected");
        let ack = 0;
        while (!this.stopped) {
          let reply;
          try {
            this.abort = new AbortController();
            const response = await fetch(`${this.lpURL}/poll?session=${session}&ack=${ack}`, { signal: this.abort.signal });
            reply = await response.json();
          } catch (e) {
            if (this.stopped) return;
            await new Promise((r) => setTimeout(r, 1000));
            continue;
          }
          if (reply.code !== 0) { this.onStatus("longpoll", "closed"); return; }
          for (const m of reply.data.messages) {
            if (m.seq <= ack) continue;
            ack = m.seq;
            this.onMessage(m.op, m.base64 ? atob(m.body) : m.body);
          }
          if (reply.data.closed) { this.onStatus("longpoll", "closed"); return; }
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

      // One WebSocket message: a packet, or an op-9 envelope of packets.
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
              out.push([op, this.decoder.decode(new Uint8Array(data, offset + 16, length - 16))]);
            }
            offset += length;
          }
        };
        read(0, data.byteLength);
        return out;
      }
    }
    """#
}
