/// The browser demo served at `/demo` on the API port: a page built on Herald's JavaScript client
/// (`clients/js/herald.js`, served at `/demo/herald.js`), which connects over WebSocket and falls
/// back to long-poll.
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
        <script type="module">
          import { HeraldClient } from "/demo/herald.js";
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
            websocket: params.get("ws") || `ws://${location.hostname}:3102/sub`,
            longpoll: params.get("lp") || `http://${location.hostname}:3104/sub`,
            token: { mid: Number(params.get("mid") || 1), room_id: room, platform: "web", accepts: [1000] },
            wsTimeoutMs: Number(params.get("wstimeout") || 3000),
            recover: recovertest || params.get("recover") === "1",
            backoff: { initialMs: recovertest ? 100 : 500 },
            onState: async (s) => {
              document.getElementById("transport").textContent = s.transport;
              document.getElementById("status").textContent = s.state;
              if (s.state === "connected" && selftest) document.getElementById("push").requestSubmit();
              if (s.state === "connected" && recovertest) {
                connects += 1;
                if (connects === 1) { for (let i = 0; i < 3; i++) await pushRoom(`r${i}`); }
                else document.getElementById("recovered").textContent = String(s.recovered);
              }
            },
            onMessage: async (m) => {
              const li = document.createElement("li");
              li.textContent = `op ${m.op}: ${m.body}`;
              document.getElementById("messages").appendChild(li);
              // In the self-test, stop once our own push came back so the page goes idle.
              if (selftest && m.body === `selftest-${nonce}`) client.close();
              if (recovertest && m.op === 1000) {
                got.push(m.body);
                if (got.length === 3 && connects === 1) {
                  client.drop();
                  for (let i = 3; i < 10; i++) await pushRoom(`r${i}`);
                }
                if (got.length >= 10) {
                  document.getElementById("recovertest").textContent = got.join(",");
                  client.close();
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
}
