"use strict";
// loxcan web view: one page, five views (hash routes), fed by the JSON API and one live stream
// (Server-Sent Events on /api/stream). Plain JS, no build step, no library: charts are small SVGs.

const $ = (sel, root = document) => root.querySelector(sel);
const main = $("#main");
const state = { gen: 0, devices: [], csrf: "", authenticated: false, stream: null, streamFrames: false, route: "", paused: false, timers: [] };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function fmtValue(v, unit) {
  if (v === undefined || v === null) return "–";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "number") return (Number.isInteger(v) ? v : v.toFixed(2)) + (unit ? " " + unit : "");
  if (typeof v === "object") return `r ${v.r} g ${v.g} b ${v.b} w ${v.w}`;
  return String(v);
}
function fmtTime(s) { return s ? new Date(s * 1000).toLocaleTimeString() : "–"; }
function fmtDuration(s) {
  s = Math.floor(s); const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (h ? h + "h " : "") + m + "m " + (s % 60) + "s";
}
function fmtFirmware(f) {
  if (!f) return "–";
  const s = String(f).padStart(8, "0");
  return [s.slice(0, 2), s.slice(2, 4), s.slice(4, 6), s.slice(6, 8)].map(Number).join(".");
}

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(path, Object.assign({}, opts, { headers, credentials: "same-origin" }));
  const type = r.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await r.json() : await r.text();
  return { ok: r.ok, status: r.status, body };
}

// ---- session ----------------------------------------------------------------------------------
async function refreshSession() {
  const r = await api("/api/session");
  state.authenticated = !!r.body.authenticated;
  state.csrf = r.body.csrf || "";
  $("#login").hidden = state.authenticated || !r.body.login_possible;
  $("#session").hidden = !state.authenticated;
}
$("#login").addEventListener("submit", async e => {
  e.preventDefault();
  const r = await api("/api/login", { method: "POST", body: JSON.stringify({ password: $("#password").value }) });
  $("#password").value = "";
  if (!r.ok) { alert("Login failed: " + r.body.error); return; }
  await refreshSession();
  render();
});
$("#logout").addEventListener("click", async () => {
  await api("/api/logout", { method: "POST" });
  await refreshSession();
  render();
});

// ---- live stream ------------------------------------------------------------------------------
function openStream(frames) {
  if (state.stream && state.streamFrames === frames) return;
  if (state.stream) state.stream.close();
  state.streamFrames = frames;
  const es = new EventSource("/api/stream" + (frames ? "?frames=1" : ""));
  state.stream = es;
  es.onopen = () => { $("#live").textContent = "live"; $("#live").classList.remove("off"); };
  es.onerror = () => { $("#live").textContent = "reconnecting"; $("#live").classList.add("off"); };
  for (const type of ["value", "command", "state", "seen", "bus", "rejected", "frame"]) {
    es.addEventListener(type, ev => onLive(JSON.parse(ev.data)));
  }
}

function onLive(m) {
  if (m.type === "value" || m.type === "command") {
    const d = state.devices.find(x => x.serial === m.serial);
    if (d) { d.values = d.values || {}; d.values[m.channel] = m.value; }
    const el = document.getElementById(`v-${m.serial}-${m.channel}`);
    if (el) {
      const ch = d && d.channels.find(c => c.id === m.channel);
      el.textContent = fmtValue(m.value, ch ? ch.unit : m.unit);
      el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash");
    }
  } else if (m.type === "state") {
    const d = state.devices.find(x => x.serial === m.serial);
    if (d) d.state = m.to;
    const el = document.getElementById(`state-${m.serial}`);
    if (el) { el.textContent = m.to; el.className = "state-" + m.to; }
  } else if (m.type === "seen" && !state.devices.find(x => x.serial === m.serial)) {
    loadDevices().then(() => { if (state.route === "devices") render(); });
  } else if (m.type === "frame") {
    addFrame(m);
  }
  if (m.type === "rejected") showControlMessage(`rejected: ${m.error}: ${m.detail} (${m.topic} = ${m.payload})`, true);
  const list = $("#device-events");
  if (list && m.serial === list.dataset.serial && m.type !== "frame") list.prepend(eventItem(m));
}

// ---- charts -----------------------------------------------------------------------------------
// A line chart of [[t, v], ...] (t in seconds) as an SVG element.
function chart(points, { w = 320, h = 80, label = "" } = {}) {
  if (points.length) points = points.concat([[Date.now() / 1000, points[points.length - 1][1]]]);  // holds until now
  if (!points.length) return `<svg class="chart" width="${w}" height="${h}"><text x="6" y="14">${esc(label)}: no data yet</text></svg>`;
  const ts = points.map(p => p[0]), vs = points.map(p => p[1]);
  const t0 = Math.min(...ts), t1 = Math.max(...ts, t0 + 1);
  let lo = Math.min(...vs), hi = Math.max(...vs);
  if (hi === lo) { hi += 1; lo -= 1; }
  const x = t => 4 + (t - t0) / (t1 - t0) * (w - 8), y = v => h - 14 - (v - lo) / (hi - lo) * (h - 28);
  const line = points.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  return `<svg class="chart" width="${w}" height="${h}"><text x="6" y="12">${esc(label)} ${hi.toFixed(1)}</text>` +
    `<text x="6" y="${h - 3}">${lo.toFixed(1)}</text><polyline points="${line}"/></svg>`;
}

// ---- pages ------------------------------------------------------------------------------------
async function loadDevices() {
  const r = await api("/api/devices");
  if (r.ok) state.devices = r.body;
}

function valuesCell(d) {
  return d.channels.filter(c => c.direction !== "config").map(c =>
    `<span><b>${esc(c.name)}</b> <span id="v-${d.serial}-${esc(c.id)}">${esc(fmtValue((d.values || {})[c.id], c.unit))}</span></span>`).join("");
}

async function pageDevices() {
  const gen = state.gen;  // a page the user already left does not draw
  await loadDevices();
  const rows = state.devices.map(d => `<tr id="dev-${d.serial}">
    <td><a href="#/device/${d.serial}">${esc(d.name)}</a>${d.emulated ? '<span class="tag">emulated</span>' : ""}${d.known_model ? "" : '<span class="tag">unknown model</span>'}</td>
    <td>${esc(d.model)}</td><td>${d.serial}</td><td>${esc(d.generation)}</td>
    <td>${d.nat ? "0x" + d.nat.toString(16).padStart(2, "0") : "–"}</td>
    <td>${d.parent ? `<a href="#/device/${d.parent}">${d.parent}</a> ${esc(d.branch || "")}` : ""}</td>
    <td>${fmtFirmware(d.firmware)}</td>
    <td id="state-${d.serial}" class="state-${esc(d.state)}">${esc(d.state)}</td>
    <td>${fmtTime(d.last_seen)}</td>
    <td class="values">${valuesCell(d)}</td></tr>`).join("");
  const online = state.devices.filter(d => d.state === "online").length;
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>Devices <span class="tag" id="device-count">${online}/${state.devices.length} online</span></h1>
    <table id="devices"><thead><tr><th>Name</th><th>Model</th><th>Serial</th><th>Generation</th><th>NAT</th>
    <th>Parent</th><th>Firmware</th><th>State</th><th>Last seen</th><th>Values</th></tr></thead><tbody>${rows}</tbody></table>
    <h2>Recent bus events</h2><ul id="bus-events"></ul>`;
  const s = await api("/api/stats");
  const list = $("#bus-events");
  if (s.ok && list && gen === state.gen) list.innerHTML = s.body.events.map(eventItemHtml).join("") || "<li>none</li>";
}

function eventText(m) {
  switch (m.type) {
    case "value": return `${m.device} ${m.channel} = ${fmtValue(m.value, m.unit)}`;
    case "command": return `${m.device} ${m.channel} commanded ${fmtValue(m.value)}`;
    case "state": return `${m.device}: ${m.from} → ${m.to}`;
    case "seen": return `${m.device} (${m.model}) seen`;
    case "bus": return `${m.kind}: ${m.detail} ${m.raw || ""}`;
    case "rejected": return `rejected ${m.topic} = ${m.payload}: ${m.error} (${m.detail})`;
  }
  return JSON.stringify(m);
}
function eventItemHtml(m) { return `<li>${fmtTime(m.ts)} ${esc(eventText(m))}</li>`; }
function eventItem(m) { const li = document.createElement("li"); li.innerHTML = eventItemHtml(m); return li; }

function controlHtml(d, c) {
  if (!c.writable) return "";
  const id = `ctl-${d.serial}-${c.id}`;
  if (c.type === "bool") {
    return `<button data-ch="${esc(c.id)}" data-payload="ON" id="${id}-on">On</button> <button data-ch="${esc(c.id)}" data-payload="OFF" id="${id}-off">Off</button>`;
  }
  if (c.type === "rgbw") {
    return `<span class="rgbw" id="${id}">${["r", "g", "b", "w"].map(k => `${k} <input type="number" min="0" max="100" value="0" data-k="${k}">`).join(" ")}
      <button data-ch="${esc(c.id)}" data-rgbw="1">Set</button></span>`;
  }
  const range = c.max !== undefined ? `min="${c.min}" max="${c.max}"` : "";
  const slider = c.max !== undefined ? `<input type="range" ${range} step="any" oninput="this.nextElementSibling.value=this.value">` : "";
  return `${slider}<input type="text" id="${id}" size="8" placeholder="${c.max !== undefined ? c.min + "…" + c.max : "value"}">
    <button data-ch="${esc(c.id)}" data-input="${id}" id="${id}-set">Set</button>`;
}

function showControlMessage(text, error) {
  const el = $("#control-msg");
  if (!el) return;
  el.textContent = text;
  el.className = "msg " + (error ? "error" : "ok");
}

async function sendControl(serial, channel, payload) {
  const r = await api(`/api/devices/${serial}/channels/${encodeURIComponent(channel)}`, { method: "POST", body: payload });
  if (r.ok) showControlMessage(`sent ${channel} = ${payload} (as ${r.body.topic})`, false);
  else showControlMessage(`refused (${r.status}): ${r.body.error}${r.body.detail ? ": " + r.body.detail : ""}`, true);
}

async function pageDevice(serial) {
  const gen = state.gen;  // a page the user already left does not draw
  const r = await api("/api/devices/" + serial);
  if (gen !== state.gen) return;
  if (!r.ok) { main.innerHTML = `<div class="msg error">${esc(r.body.error)}</div>`; return; }
  const d = r.body;
  const idx = state.devices.findIndex(x => x.serial === d.serial);
  if (idx >= 0) state.devices[idx] = d; else state.devices.push(d);
  const rows = d.channels.map(c => `<tr><td>${esc(c.name)}${c.name !== c.id ? ` <span class="tag">${esc(c.id)}</span>` : ""}</td>
    <td>${esc(c.direction)}</td><td>${esc(c.type)}</td>
    <td id="v-${d.serial}-${esc(c.id)}" class="num">${esc(fmtValue(d.values[c.id], c.unit))}</td>
    <td>${controlHtml(d, c)}</td></tr>`).join("");
  const charts = Object.entries(d.history).map(([ch, pts]) => chart(pts, { label: ch })).join(" ");
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>${esc(d.name)} <span class="tag">${esc(d.model)}</span> <span class="tag">${d.serial}</span>
      <span id="state-${d.serial}" class="state-${esc(d.state)}">${esc(d.state)}</span></h1>
    <p>${esc(d.generation)}${d.nat ? ", NAT 0x" + d.nat.toString(16) : ""}${d.parent ? `, Tree Extension <a href="#/device/${d.parent}">${d.parent}</a> ${esc(d.branch || "")}` : ""},
      firmware ${fmtFirmware(d.firmware)}, last seen ${fmtTime(d.last_seen)}${d.emulated ? ", emulated by loxcan" : ""}</p>
    ${state.authenticated ? "" : '<p class="tag">Controls need a login (web.password_file).</p>'}
    <div id="control-msg"></div>
    <table id="channels"><thead><tr><th>Channel</th><th>Direction</th><th>Type</th><th>Value</th><th>Control</th></tr></thead><tbody>${rows}</tbody></table>
    <h2>Last hour</h2><div id="history">${charts || "no numeric values yet"}</div>
    <h2>Recent events</h2><ul id="device-events" data-serial="${d.serial}">${d.events.map(eventItemHtml).join("")}</ul>`;
  $("#channels").addEventListener("click", e => {
    const b = e.target.closest("button");
    if (!b) return;
    let payload = b.dataset.payload;
    if (b.dataset.input) payload = document.getElementById(b.dataset.input).value;
    if (b.dataset.rgbw) payload = [...b.parentElement.querySelectorAll("input")].map(i => i.value).join(",");
    sendControl(d.serial, b.dataset.ch, payload);
  });
}

async function pageBus() {
  const gen = state.gen;  // a page the user already left does not draw
  const r = await api("/api/stats");
  if (!r.ok) return;
  const s = r.body;
  const ifaces = s.interfaces.map(i => `<tr><td>${esc(i.name)}</td><td>${esc(i.role)}</td><td>${esc(i.state)}</td><td>${esc(i.controller)}</td>
    <td class="num">${i.bitrate}${i.bitrate_nominal ? " (nominal)" : ""}</td><td class="num">${i.load_percent.toFixed(1)} % (peak ${i.load_peak.toFixed(1)})</td>
    <td class="num">${i.rx_frames}</td><td class="num">${i.tx_frames}</td><td class="num">${i.error_frames}</td>
    <td class="num">${i.bus_off}/${i.error_passive}/${i.error_warning}</td><td class="num">${i.rx_overflow}</td><td class="num">${i.tx_dropped}</td></tr>`).join("");
  const loadCharts = s.interfaces.map(i => chart(s.history.map(h => [h.t, h.load[i.name] ?? 0]), { w: 480, h: 110, label: i.name + " load %" })).join(" ");
  const mq = s.mqtt;
  const mqttState = !mq.enabled ? "disabled" : mq.connected ? "connected" : "unreachable (retrying)";
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>Bus</h1>
    <div class="cards">
      <div class="card"><div class="label">frames/s</div><div class="big" id="fps">${s.frames_per_second.toFixed(0)}</div></div>
      <div class="card"><div class="label">devices online</div><div class="big">${s.online}/${s.devices}</div></div>
      <div class="card"><div class="label">MQTT ${esc(mq.broker)}</div><div class="big" id="mqtt-state">${mqttState}</div></div>
      <div class="card"><div class="label">uptime</div><div class="big">${fmtDuration(s.uptime_s)}</div></div>
      <div class="card"><div class="label">version</div><div class="big">${esc(s.version)}</div></div>
      <div class="card"><div class="label">RSS</div><div class="big">${(s.rss_bytes / 1048576).toFixed(1)} MiB</div></div>
    </div>
    <h2>Interfaces</h2>
    <table id="interfaces"><thead><tr><th>Interface</th><th>Role</th><th>State</th><th>Controller</th><th>Bitrate</th><th>Load</th>
      <th>RX</th><th>TX</th><th>Error frames</th><th>Bus-off/passive/warning</th><th>RX overflow</th><th>TX dropped</th></tr></thead><tbody>${ifaces}</tbody></table>
    <h2>Load, last 10 minutes</h2>${loadCharts}
    ${chart(s.history.map(h => [h.t, h.fps]), { w: 480, h: 110, label: "frames/s" })}
    <h2>MQTT</h2><table><tbody>${Object.entries(mq.counters || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v}</td></tr>`).join("")}</tbody></table>
    <h2>Web view</h2><table><tbody>${Object.entries(s.web || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v}</td></tr>`).join("")}</tbody></table>`;
}

const frames = [];
function addFrame(m) {
  frames.push(m);
  if (frames.length > 2000) frames.shift();
  if (state.route !== "traffic" || state.paused) return;
  const box = $("#frames");
  if (!box) return;
  const f = $("#filter").value.toLowerCase();
  if (f && !(m.raw + " " + m.text).toLowerCase().includes(f)) return;
  const div = document.createElement("div");
  div.textContent = `${new Date(m.ts * 1000).toISOString().slice(11, 23)} ${m.iface} ${m.raw.padEnd(26)} ${m.text}`;
  box.append(div);
  while (box.childElementCount > 500) box.firstElementChild.remove();
  box.scrollTop = box.scrollHeight;
}

async function pageTraffic() {
  const gen = state.gen;  // a page the user already left does not draw
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>Traffic</h1>
    <div class="toolbar">
      <input id="filter" placeholder="filter: device serial, command (e.g. value_digital), id">
      <button id="pause" type="button">${state.paused ? "Resume" : "Pause"}</button>
      <label>last <input id="download-n" type="number" value="1000" min="1" max="2000"> frames</label>
      <a id="download" href="/api/frames?n=1000" download="loxcan.log">download as candump log</a>
    </div>
    <div id="frames"></div>`;
  $("#pause").onclick = () => { state.paused = !state.paused; $("#pause").textContent = state.paused ? "Resume" : "Pause"; };
  $("#download-n").oninput = e => { $("#download").href = "/api/frames?n=" + e.target.value; };
  $("#filter").oninput = () => { $("#frames").textContent = ""; const keep = frames.slice(-500); const p = state.paused; state.paused = false; keep.forEach(m => { frames.pop(); }); keep.forEach(addFrame); state.paused = p; };
}

async function pageConfig() {
  const gen = state.gen;  // a page the user already left does not draw
  const r = await api("/api/config");
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>Configuration</h1>
    <p>The running map is <code>${esc(r.body.file)}</code>. Edit it here and check it with the daemon's own checker
    (the same as <code>loxcan-gateway --check-config</code>). To apply a map, save it to that file and reload:
    <code>systemctl reload loxcan-gateway</code> (SIGHUP); an invalid map is rejected and the old one stays.</p>
    <div class="toolbar"><button id="check" type="button">Check</button><span id="check-result"></span></div>
    <ul id="config-errors" class="errors"></ul>
    <div class="editor"><pre id="gutter"></pre><textarea id="config-text" spellcheck="false"></textarea></div>`;
  const ta = $("#config-text");
  ta.value = r.body.text;
  const gutter = () => { $("#gutter").textContent = ta.value.split("\n").map((_, i) => i + 1).join("\n"); };
  gutter();
  ta.oninput = gutter;
  $("#check").onclick = async () => {
    const c = await api("/api/config/check", { method: "POST", body: ta.value, headers: { "Content-Type": "text/yaml" } });
    if (!c.ok) { $("#check-result").textContent = c.body.error; return; }
    $("#check-result").textContent = c.body.ok ? "OK: the map is valid" : `${c.body.errors.length} error(s)`;
    $("#check-result").className = "msg " + (c.body.ok ? "ok" : "error");
    $("#config-errors").innerHTML = c.body.errors.map(e => `<li data-line="${e.line}">${esc(e.text)}</li>`).join("");
  };
  $("#config-errors").onclick = e => {
    const line = Number(e.target.dataset.line);
    if (!line) return;
    const lines = ta.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    ta.focus();
    ta.setSelectionRange(start, start + lines[line - 1].length);
  };
}

async function pageMiniservers() {
  const gen = state.gen;  // a page the user already left does not draw
  const r = await api("/api/miniservers");
  const rows = (r.body || []).map(m => `<tr>${["name", "serial", "address", "port", "firmware", "found_by"].map(k => `<td>${esc(m[k] ?? "")}</td>`).join("")}</tr>`).join("");
  if (gen !== state.gen) return;
  main.innerHTML = `<h1>Miniservers on the LAN</h1>
    <table id="miniservers"><thead><tr><th>Name</th><th>Serial</th><th>Address</th><th>Port</th><th>Firmware</th><th>Found by</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="6">none found (yet): discovery runs at start and every discovery.interval_min minutes</td></tr>'}</tbody></table>
    <details><summary>raw</summary><pre>${esc(JSON.stringify(r.body, null, 2))}</pre></details>`;
}

// ---- routing ----------------------------------------------------------------------------------
async function render() {
  const gen = ++state.gen;
  delete document.body.dataset.ready;  // set again when this route has drawn (tests wait for it)
  state.timers.forEach(clearInterval);
  state.timers = [];
  const [route, arg] = location.hash.replace(/^#\/?/, "").split("/");
  state.route = route || "devices";
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.id === "nav-" + state.route));
  openStream(state.route === "traffic");
  switch (state.route) {
    case "device": await pageDevice(arg); break;
    case "bus": await pageBus(); state.timers.push(setInterval(pageBus, 2000)); break;
    case "traffic": await pageTraffic(); break;
    case "config": await pageConfig(); break;
    case "miniservers": await pageMiniservers(); break;
    default: await pageDevices();
  }
  if (gen === state.gen) document.body.dataset.ready = state.route;
}
window.addEventListener("hashchange", render);
refreshSession().then(render);
