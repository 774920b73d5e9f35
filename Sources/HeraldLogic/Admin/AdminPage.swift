/// The console page served at `/admin`: plain HTML, CSS and JavaScript with SVG charts drawn by
/// hand (no library, no network). It asks `/admin/snapshot` once a second with the token from the
/// address's fragment (`/admin#token=…`, never sent to the server) or typed into the page, keeps
/// five minutes of snapshots, and computes rates from them. Every figure carries a `data-figure`
/// name, so a test can read what is shown.
enum AdminPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Herald console</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
          header { background: #1d232b; color: #fff; padding: .7em 1.2em; display: flex; gap: 1.5em; align-items: baseline; }
          header h1 { font-size: 1.15em; margin: 0; }
          main { display: grid; grid-template-columns: repeat(auto-fit, minmax(26em, 1fr)); gap: 1em; padding: 1em; }
          section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .8em 1em; }
          #cluster { grid-column: 1 / -1; }
          section { overflow-x: auto; }
          h2 { font-size: 1em; margin: 0 0 .6em; }
          table { border-collapse: collapse; width: 100%; }
          td, th { text-align: left; padding: .15em .4em; border-bottom: 1px solid #eef0f3; font-variant-numeric: tabular-nums; }
          th { font-weight: 600; color: #5a6572; }
          .figures { display: flex; flex-wrap: wrap; gap: 1.2em; margin-bottom: .6em; }
          .figure b { display: block; font-size: 1.5em; font-variant-numeric: tabular-nums; }
          .figure span { color: #5a6572; }
          svg { width: 100%; height: 60px; background: #fafbfc; border: 1px solid #eef0f3; }
          polyline { fill: none; stroke: #2f6fde; stroke-width: 1.5; }
          .verdict { padding: .5em .7em; border-radius: 4px; background: #fff4d6; }
          .verdict.safe { background: #dcf5e3; }
          #login { padding: 1em; }
          .caption { margin: .4em 0 .1em; color: #5a6572; font-size: .85em; }
        </style>
        </head>
        <body>
        <header><h1>Herald console</h1><span id="status" data-figure="status">waiting for the first snapshot</span></header>
        <form id="login" hidden><label>Admin token <input id="token" type="password" size="40"></label> <button>Show</button></form>
        <main id="views" hidden>
          <section id="cluster"><h2>Cluster</h2>
            <div class="figures">
              <div class="figure"><b data-figure="connections">-</b><span>connections</span></div>
              <div class="figure"><b data-figure="ips">-</b><span>client IPs</span></div>
              <div class="figure"><b data-figure="comets">-</b><span>comets</span></div>
              <div class="figure"><b data-figure="processes">-</b><span>processes</span></div>
            </div>
            <table><thead><tr><th>comet</th><th>connections</th><th>IPs</th><th>weight</th><th>addresses</th><th>gRPC</th><th>version</th><th>up</th><th>renewed</th></tr></thead><tbody id="comet-rows"></tbody></table>
            <p class="caption">processes: their figures are added up on this page (each one's <code>[metrics] listen</code>, scraped by logic)</p>
            <table><thead><tr><th>role</th><th>process</th><th>version</th><th>up</th><th>renewed</th><th>metrics</th></tr></thead><tbody id="process-rows"></tbody></table>
            <p data-figure="processes_error"></p>
          </section>
          <section id="traffic"><h2>Traffic</h2>
            <div class="figures">
              <div class="figure"><b data-figure="deliveries_per_second">-</b><span>deliveries/s</span></div>
              <div class="figure"><b data-figure="pushes_per_second">-</b><span>pushes/s</span></div>
              <div class="figure"><b data-figure="connects_per_second">-</b><span>connects/s</span></div>
              <div class="figure"><b data-figure="delivered_total">-</b><span>delivered</span></div>
              <div class="figure"><b data-figure="dropped_total">-</b><span>dropped</span></div>
            </div>
            <p class="caption">deliveries/s, last five minutes</p>
            <svg id="chart-deliveries" viewBox="0 0 300 60" preserveAspectRatio="none"><polyline points=""/></svg>
            <p class="caption">connections, last five minutes</p>
            <svg id="chart-connections" viewBox="0 0 300 60" preserveAspectRatio="none"><polyline points=""/></svg>
            <table><thead><tr><th>closes by reason</th><th>total</th></tr></thead><tbody id="close-rows"></tbody></table>
          </section>
          <section id="rooms"><h2>Rooms and users</h2>
            <table><thead><tr><th>room</th><th>online</th></tr></thead><tbody id="room-rows"></tbody></table>
            <form id="lookup"><p class="caption">a room's online count; users' presence (ids separated by commas)</p>
              <input id="ask-room" placeholder="live://1000" size="18"> <input id="ask-mids" placeholder="123,456" size="14"> <button>Look up</button></form>
            <p><span data-figure="room_detail">-</span></p>
            <table><thead><tr><th>user</th><th>online</th><th>connections</th><th>platforms</th></tr></thead><tbody id="user-rows"></tbody></table>
            <p data-figure="users_error"></p>
          </section>
          <section id="queues"><h2>Queues</h2>
            <table><thead><tr><th>queue</th><th>published</th><th>lag</th><th>redelivered</th><th>lost</th><th>errors</th></tr></thead><tbody id="queue-rows"></tbody></table>
            <p>consumed: <b data-figure="consumed_total">-</b></p>
            <table><thead><tr><th>kafka topic</th><th>partition</th><th>lag</th></tr></thead><tbody id="partition-rows"></tbody></table>
          </section>
          <section id="migration"><h2>Migration</h2>
            <p id="no-migration">This process runs no migration.</p>
            <div id="migration-figures" hidden>
              <div class="figures">
                <div class="figure"><b data-figure="phase">-</b><span>phase</span></div>
                <div class="figure"><b data-figure="seen_primary">-</b><span>seen on primary</span></div>
                <div class="figure"><b data-figure="seen_secondary">-</b><span>seen on secondary</span></div>
                <div class="figure"><b data-figure="migration_delivered">-</b><span>delivered</span></div>
                <div class="figure"><b data-figure="missing">-</b><span>missing</span></div>
                <div class="figure"><b data-figure="second_copies">-</b><span>second copies dropped</span></div>
                <div class="figure"><b data-figure="twin_lag_ms">-</b><span>twin lag, mean ms</span></div>
              </div>
              <p class="verdict" data-figure="verdict">-</p>
            </div>
          </section>
        </main>
        <script>
        (() => {
          const hash = new URLSearchParams(location.hash.slice(1));
          if (hash.get('token')) { sessionStorage.setItem('herald-admin-token', hash.get('token')); history.replaceState(null, '', location.pathname); }
          let token = sessionStorage.getItem('herald-admin-token');
          let askRoom = hash.get('room') || '', askMids = hash.get('mids') || '';
          // #view=cluster (traffic, rooms, queues, migration) shows that view alone.
          const view = hash.get('view');
          if (view) for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== view;
          const history5m = [];
          const $ = (id) => document.getElementById(id);
          const fig = (name, value) => { for (const e of document.querySelectorAll(`[data-figure="${name}"]`)) e.textContent = value; };
          const num = (v) => v === undefined || v === null ? '-' : (Math.round(v * 10) / 10).toLocaleString('en-US');
          const total = (m, name) => Object.entries(m).filter(([k]) => k === name || k.startsWith(name + '{')).reduce((s, [, v]) => s + v, 0);
          const byLabel = (m, name) => {
            const out = {};
            for (const [k, v] of Object.entries(m)) if (k.startsWith(name + '{')) { const label = k.slice(name.length + 1, -1).split('=').pop().replace(/"/g, ''); out[label] = (out[label] || 0) + v; }
            return out;
          };
          const labelled = (m, name) => Object.entries(m).filter(([k]) => k.startsWith(name + '{')).map(([k, v]) => {
            const labels = {};
            for (const [, key, value] of k.slice(name.length + 1, -1).matchAll(/(\w+)="([^"]*)"/g)) labels[key] = value;
            return [labels, v];
          });
          const rate = (name) => {
            if (history5m.length < 2) return 0;
            const a = history5m[history5m.length - 2], b = history5m[history5m.length - 1];
            return Math.max(0, (total(b.metrics, name) - total(a.metrics, name)) / Math.max(0.001, (b.time - a.time) / 1000));
          };
          const rows = (id, list) => { $(id).innerHTML = list.map((cells) => '<tr>' + cells.map((c) => `<td>${String(c).replace(/[&<>]/g, (x) => ({'&':'&amp;','<':'&lt;','>':'&gt;'})[x])}</td>`).join('') + '</tr>').join(''); };
          const chart = (id, values) => {
            const max = Math.max(1, ...values);
            $(id).querySelector('polyline').setAttribute('points', values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 300},${58 - (v / max) * 56}`).join(' '));
          };
          function show(s) {
            history5m.push(s);
            while (history5m.length > 300) history5m.shift();
            const m = s.metrics;
            fig('status', 'updated ' + new Date(s.time).toLocaleTimeString('en-GB'));
            fig('connections', num(s.connections)); fig('ips', num(s.ips)); fig('comets', num(s.comets.length));
            const age = (sec) => sec === undefined || sec === null ? '-' : sec < 120 ? sec + ' s' : sec < 7200 ? Math.floor(sec / 60) + ' min' : Math.floor(sec / 3600) + ' h';
            rows('comet-rows', s.comets.map((c) => [c.id, c.connections, c.ips, c.weight, c.addresses.join(' '), c.rpc || '(in process)', c.version || '-', age(c.uptimeSeconds), age(c.renewedSecondsAgo) + (c.renewedSecondsAgo === undefined ? '' : ' ago')]));
            fig('processes', num(s.processes.length));
            rows('process-rows', s.processes.map((p) => [p.role, p.id, p.version || '-', age(p.uptimeSeconds), age(p.renewedSecondsAgo) + (p.renewedSecondsAgo === undefined ? '' : ' ago'),
              p.scrapeError ? (p.counted ? 'its last scrape counted; now: ' : 'not counted: ') + p.scrapeError : p.metrics ? 'counted (' + p.metrics + ')' : 'counted']));
            fig('processes_error', s.processesError ? 'the process registry could not be read: ' + s.processesError : '');
            const deliveries = rate('herald_push_delivered_total');
            s.deliveriesPerSecond = deliveries;
            fig('deliveries_per_second', num(deliveries));
            fig('pushes_per_second', num(rate('herald_pushes_total')));
            fig('connects_per_second', num(rate('herald_auth_total')));
            fig('delivered_total', num(total(m, 'herald_push_delivered_total')));
            fig('dropped_total', num(total(m, 'herald_push_dropped_total')));
            chart('chart-deliveries', history5m.map((h) => h.deliveriesPerSecond || 0));
            chart('chart-connections', history5m.map((h) => h.connections));
            rows('close-rows', Object.entries(byLabel(m, 'herald_connections_closed_total')).sort((a, b) => b[1] - a[1]).map(([r, v]) => [r, num(v)]));
            rows('room-rows', s.rooms.map((r) => [r.room, r.count]));
            fig('room_detail', s.room ? `${s.room.room}: ${s.room.count} online` : 'no room asked for');
            fig('users_error', s.usersError ? 'users could not be looked up: ' + s.usersError : '');
            rows('user-rows', Object.entries(s.users || {}).sort((a, b) => Number(a[0]) - Number(b[0])).map(([mid, u]) => [mid, u.online ? 'yes' : 'no', u.connections, u.platforms.join(' ') || '-']));
            const queues = new Set([...Object.keys(byLabel(m, 'herald_queue_published_total')), ...Object.keys(byLabel(m, 'herald_queue_lag'))]);
            rows('queue-rows', [...queues].sort().map((q) => [q, num(byLabel(m, 'herald_queue_published_total')[q]), num(byLabel(m, 'herald_queue_lag')[q]),
              num(byLabel(m, 'herald_queue_redelivered_total')[q] || 0), num(byLabel(m, 'herald_queue_lost_total')[q] || 0), num(byLabel(m, 'herald_queue_errors_total')[q] || 0)]));
            fig('consumed_total', num(total(m, 'herald_queue_consumed_total')));
            rows('partition-rows', labelled(m, 'herald_queue_partition_lag').sort((a, b) => a[0].topic.localeCompare(b[0].topic) || Number(a[0].partition) - Number(b[0].partition)).map(([l, v]) => [l.topic, l.partition, num(v)]));
            $('no-migration').hidden = !!s.migration; $('migration-figures').hidden = !s.migration;
            if (s.migration) {
              const seen = byLabel(m, 'herald_migration_seen_total');
              fig('phase', s.migration.phase); fig('seen_primary', num(seen.primary || 0)); fig('seen_secondary', num(seen.secondary || 0));
              fig('migration_delivered', num(total(m, 'herald_migration_delivered_total'))); fig('missing', num(s.migration.missing));
              fig('second_copies', num(total(m, 'herald_migration_second_copies_total')));
              const pairs = total(m, 'herald_migration_twin_lag_seconds_count');
              fig('twin_lag_ms', pairs > 0 ? num(total(m, 'herald_migration_twin_lag_seconds_sum') / pairs * 1000) : '-');
              fig('verdict', s.migration.text); document.querySelector('.verdict').classList.toggle('safe', s.migration.safe);
            }
          }
          async function poll() {
            try {
              const ask = new URLSearchParams();
              if (askRoom) ask.set('room', askRoom);
              if (askMids) ask.set('mids', askMids);
              const r = await fetch('/admin/snapshot?' + ask, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
              if (r.status === 401) { sessionStorage.removeItem('herald-admin-token'); token = null; fig('status', 'the token was refused'); $('views').hidden = true; $('login').hidden = false; return; }
              const answer = await r.json();
              if (!r.ok) {
                // A lookup the server refused (a bad user id): say why and stop asking for it.
                fig('status', 'lookup refused: ' + (answer.message || r.status)); askRoom = ''; askMids = '';
              } else {
                show(answer);
              }
              $('views').hidden = false;
            } catch (e) { fig('status', 'no answer: ' + e); }
            setTimeout(poll, 1000);
          }
          $('ask-room').value = askRoom; $('ask-mids').value = askMids;
          $('lookup').addEventListener('submit', (e) => { e.preventDefault(); askRoom = $('ask-room').value.trim(); askMids = $('ask-mids').value.trim(); });
          $('login').addEventListener('submit', (e) => { e.preventDefault(); token = $('token').value; sessionStorage.setItem('herald-admin-token', token); $('login').hidden = true; poll(); });
          if (token) poll(); else { $('login').hidden = false; fig('status', 'enter the admin token'); }
        })();
        </script>
        </body>
        </html>
        """#
}
