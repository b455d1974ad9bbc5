// The web view in a real browser: Debian's chromium, headless, driven over the DevTools protocol
// by puppeteer-core (from the test cache, never shipped). Run by web_browser.sh inside the vcan
// sandbox with `loxcan sim` + etc/demo.yaml; every check throws on failure (exit 1).
//   env: BASE_URL, PASSWORD, SCREENSHOTS (folder), CHROMIUM, USER_DATA_DIR
"use strict";
const puppeteer = require("puppeteer-core");
const { execFile } = require("child_process");
const fs = require("fs");

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOTS;
const TIMEOUT = 60000;

function ok(what) { console.log("ok: " + what); }
function check(cond, what) { if (!cond) throw new Error("FAIL: " + what); ok(what); }

// candump for `ms`: the frames of one CAN id (-L form); resolves with the lines.
function candump(id, ms) {
  return new Promise(resolve => {
    execFile("timeout", [String(ms / 1000), "candump", "-L", `vcan0,${id}:1FFFFFFF`], (err, stdout) => resolve(stdout.trim()));
  });
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  console.log(`screenshot: ${SHOTS}/${name}.png`);
}

async function go(page, hash, ready) {
  await page.evaluate(() => { if (document.body) delete document.body.dataset.ready; });
  await page.goto(`${BASE}/${hash}`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(r => document.body.dataset.ready === r, { timeout: TIMEOUT }, ready);
}

async function devicesOnline(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll("#devices tbody tr")];
    return { rows: rows.length, online: rows.filter(r => r.querySelector("td[id^=state-]").textContent === "online").length };
  });
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: false,  // the flags below say --headless themselves
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--window-size=1400,1000"],
    userDataDir: process.env.USER_DATA_DIR,
    timeout: 180000,
    protocolTimeout: 180000,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    page.on("pageerror", e => { console.log("page error: " + e.message); process.exitCode = 1; });

    // 1. Devices: all 14 demo devices online, each showing the values the API has for it.
    let seen = { rows: 0, online: 0 };
    for (let i = 0; i < 30 && seen.online < 14; ++i) {
      await go(page, "#/devices", "devices");
      seen = await devicesOnline(page);
      if (seen.online < 14) await new Promise(r => setTimeout(r, 2000));
    }
    check(seen.rows === 14 && seen.online === 14, `devices page lists 14 devices, ${seen.online} online`);
    const api = await (await fetch(`${BASE}/api/devices`)).json();
    const shown = await page.evaluate(() => [...document.querySelectorAll("#devices tbody tr")].map(r =>
      [r.id.slice(4), [...r.querySelectorAll(".values span[id]")].filter(s => s.textContent !== "–").length]));
    let values = 0;
    for (const [serial, n] of shown) {
      const d = api.find(x => x.serial === serial);
      const expected = Object.keys(d.values).filter(k => d.channels.some(c => c.id === k)).length;
      if (n < expected) throw new Error(`FAIL: ${d.name} shows ${n} values, the API has ${expected}`);
      values += n;
    }
    check(values >= 50, `devices page shows ${values} channel values`);
    await shot(page, "devices");

    // 2. A value the simulator sets (ao-garden aq1, every 3 s) appears on the page within 1 s of
    // its frame on the bus (the event's timestamp is the frame's kernel receive time).
    await page.evaluate(() => {
      window.__changes = [];
      const el = document.getElementById("v-17000001-aq1");
      new MutationObserver(() => window.__changes.push({ t: Date.now(), text: el.textContent }))
        .observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.waitForFunction(() => window.__changes.length > 0, { timeout: 20000 });
    const change = (await page.evaluate(() => window.__changes))[0];
    const shownValue = parseFloat(change.text);
    const dev = await (await fetch(`${BASE}/api/devices/17000001`)).json();
    const ev = dev.events.find(e => e.channel === "aq1" && e.value === shownValue);
    check(ev !== undefined, `ao-garden aq1 = ${change.text} has its event`);
    const latency = change.t - ev.ts * 1000;
    check(latency >= -50 && latency < 1000, `simulator value on the page ${latency.toFixed(0)} ms after its frame`);

    // 3. Without a login the controls are refused, and nothing reaches the bus.
    await go(page, "#/device/0BFF0001", "device");
    const quiet = candump("1BFF0001", 5000);
    await new Promise(r => setTimeout(r, 2500));
    await page.click("#ctl-0BFF0001-q1-on");
    await page.waitForFunction(() => document.querySelector("#control-msg").textContent.includes("refused (401)"), { timeout: TIMEOUT });
    check((await quiet) === "", "without a login the relay control is refused (401) and no frame is sent");
    await shot(page, "device-refused");

    // 4. Logged in, switching relay q1 sends the Miniserver's command frame (legacy 0x60).
    await page.evaluate(() => { delete document.body.dataset.ready; });  // the login redraws the page
    await page.type("#password", process.env.PASSWORD);
    await Promise.all([page.waitForFunction(() => !document.querySelector("#session").hidden, { timeout: TIMEOUT }),
                       page.click("#login button")]);
    ok("login with the password from web.password_file");
    await page.waitForFunction(() => document.body.dataset.ready === "device", { timeout: TIMEOUT });
    const frame = candump("1BFF0001", 12000);
    await new Promise(r => setTimeout(r, 2500));  // candump is listening (a loaded sandbox is slow)
    await page.click("#ctl-0BFF0001-q1-on");
    await page.waitForFunction(() => document.querySelector("#control-msg").textContent.includes("sent q1"), { timeout: TIMEOUT });
    const lines = await frame;
    check(/vcan0 1BFF0001#6000000001000000/.test(lines), `relay q1 switched from the page: candump saw ${lines.split("\n")[0]}`);
    await shot(page, "device-relay");

    // 5. A bad value typed into a control shows the rejection (same checks as MQTT /set).
    await go(page, "#/device/B0000001", "device");
    await page.type("#ctl-B0000001-temperature", "abc");
    await page.click("#ctl-B0000001-temperature-set");
    await page.waitForFunction(() => document.querySelector("#control-msg").textContent.includes("wrong_type"), { timeout: TIMEOUT });
    const msg = await page.$eval("#control-msg", e => e.textContent);
    check(msg.includes("not a number"), `bad value rejected: ${msg}`);
    await shot(page, "device-rejected");

    // 6. A config with an error shows it at its line.
    await go(page, "#/config", "config");
    await page.$eval("#config-text", t => { t.value = "interfaces:\n  - name: vcan0\n    role: lnk\n"; t.dispatchEvent(new Event("input")); });
    await page.click("#check");
    await page.waitForSelector("#config-errors li", { timeout: TIMEOUT });
    const err = await page.$eval("#config-errors li", e => e.textContent);
    check(err.startsWith("edited.yaml:3:11: interfaces[0].role"), `config error at its line: ${err}`);
    await shot(page, "config-error");

    // 7. The other pages render with live data.
    await go(page, "#/bus", "bus");
    await page.waitForSelector("#interfaces tbody tr", { timeout: TIMEOUT });
    check((await page.$eval("#interfaces tbody tr td", e => e.textContent)) === "vcan0", "bus page lists vcan0");
    await shot(page, "bus");
    await go(page, "#/traffic", "traffic");
    await page.waitForFunction(() => document.querySelectorAll("#frames div").length > 0, { timeout: TIMEOUT });
    check(true, "traffic page shows live decoded frames");
    await shot(page, "traffic");
    await go(page, "#/miniservers", "miniservers");
    await shot(page, "miniservers");
  } finally {
    await browser.close();
  }
}

main().catch(e => { console.error(e.message || e); process.exit(1); });
