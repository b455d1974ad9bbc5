#!/usr/bin/env python3
"""loxcan-gateway end-to-end benchmark (issue 7). Runs inside scripts/vcan-sandbox; see run.sh.

Python standard library only: SocketCAN raw sockets and a minimal MQTT 3.1.1 client (CONNECT,
SUBSCRIBE, QoS 0 PUBLISH in both directions; keep-alive off). It starts loxcan-gateway itself and
measures:
  ready     exec -> READY=1 on NOTIFY_SOCKET, over --ready-runs starts
  can2mqtt  DI frame that toggles i1 -> its MQTT publish (ping-pong, --samples)
  mqtt2can  publish <relay>/q1/set on|off -> the 0x60 frame on vcan (ping-pong, --samples)
  load      N x 954 frames/s for S s: frames lost (sent - delta of the gateway's rxframes metric),
            rxoverflow delta, CPU % (utime+stime of the gateway over the period), CAN->MQTT latency
            of an i1 probe every 100 ms under that load
  rss       VmHWM at the end, and where the resident memory is (binary, shared libraries, heap)
Nothing is asserted: the numbers are printed as Markdown and written to --out.
"""
import argparse
import threading
import datetime
import functools
import json
import os
import platform
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import loxframes  # noqa: E402  (the independent Loxone frame builder of the integration tests)

LINK_RATE = 954          # frames/s of a saturated 125 kbit/s Link bus with 29-bit 8-byte frames
DI_SERIAL, DI_NAT, DI_NAME = 0x14111775, 0x02, "bench-di"
RELAY_SERIAL, RELAY_NAME = 0x0BFF0A01, "bench-relays"
RELAY_CMD_ID = 0x1BFF0A01  # legacy Relay Extension, server -> device
CAN_EFF = 0x80000000
CAN_FRAME = struct.Struct("=IB3x8s")
now_ns = time.monotonic_ns


# ---- CAN ------------------------------------------------------------------------------------------

def can_socket(iface, filter_id=None):
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    if filter_id is not None:
        s.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FILTER,
                     struct.pack("=II", filter_id | CAN_EFF, 0x1FFFFFFF | CAN_EFF))
    else:
        s.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FILTER, b"")  # send only
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.bind((iface,))
    return s


def can_frame(text):
    """'10002080#00...' (cansend syntax, 29-bit) -> raw struct can_frame."""
    ident, data = text.split("#")
    data = bytes.fromhex(data)
    return CAN_FRAME.pack(int(ident, 16) | CAN_EFF, len(data), data.ljust(8, b"\0"))


@functools.lru_cache(maxsize=None)
def di_frame(mask):
    """The DI Extension's digital input frame (0x80) for an input mask; cached so that the load
    costs the driver a send() per frame and little else."""
    return can_frame(loxframes.nat(False, DI_NAT, 0, 0x80, 0, 0, mask))


def send_frame(sock, raw):
    while True:
        try:
            sock.send(raw)
            return
        except OSError as e:  # ENOBUFS: the interface queue is full for a moment
            if e.errno != 105:
                raise
            time.sleep(0.0005)


# ---- minimal MQTT 3.1.1 ---------------------------------------------------------------------------

def _mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Mqtt:
    """Just enough MQTT 3.1.1 for a benchmark: QoS 0 in and out, clean session, keep-alive off."""

    def __init__(self, port, client_id):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.unread = []  # messages a wait_for() read past its match
        self._write(0x10, b"\x00\x04MQTT\x04\x02\x00\x00" + _mqtt_str(client_id))
        ptype, body = self._packet(5.0)
        if ptype >> 4 != 2 or body[1] != 0:
            raise RuntimeError(f"MQTT CONNACK refused: {body.hex()}")

    def _write(self, first, body):
        self.sock.setblocking(True)
        self.sock.sendall(bytes([first]) + _remaining_length(len(body)) + body)
        self.sock.setblocking(False)

    def subscribe(self, *topics):
        body = struct.pack("!H", 1) + b"".join(_mqtt_str(t) + b"\x00" for t in topics)
        self._write(0x82, body)
        deadline = now_ns() + 5_000_000_000
        while True:
            ptype, _ = self._packet((deadline - now_ns()) / 1e9)
            if ptype >> 4 == 9:
                return
            if ptype >> 4 == 3:
                continue  # a retained message may overtake the SUBACK; drop it

    def publish(self, topic, payload):
        self._write(0x30, _mqtt_str(topic) + payload.encode())

    def fileno(self):
        return self.sock.fileno()

    def _parse(self):
        """One complete packet from the buffer, or None."""
        if len(self.buf) < 2:
            return None
        n, mult, i = 0, 1, 1
        while True:
            if i >= len(self.buf):
                return None
            byte = self.buf[i]
            n += (byte & 0x7F) * mult
            mult *= 128
            i += 1
            if not byte & 0x80:
                break
        if len(self.buf) < i + n:
            return None
        ptype, body = self.buf[0], bytes(self.buf[i:i + n])
        del self.buf[:i + n]
        return ptype, body

    def _packet(self, timeout):
        deadline = now_ns() + int(timeout * 1e9)
        while True:
            p = self._parse()
            if p:
                return p
            left = (deadline - now_ns()) / 1e9
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no MQTT packet")
            self._read()

    def _read(self):
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        if not data:
            raise ConnectionError("broker closed the connection")
        self.buf += data

    def poll(self, timeout):
        """(topic, payload, retained) messages that arrive within timeout seconds (maybe none)."""
        out, self.unread = self.unread + self._messages(), []
        if not out and select.select([self.sock], [], [], max(timeout, 0))[0]:
            self._read()
            out = self._messages()
        return out

    def _messages(self):
        out = []
        while (p := self._parse()) is not None:
            ptype, body = p
            if ptype >> 4 != 3:
                continue
            tlen = struct.unpack_from("!H", body)[0]
            topic = body[2:2 + tlen].decode()
            off = 2 + tlen + (2 if (ptype >> 1) & 3 else 0)
            out.append((topic, body[off:].decode(errors="replace"), bool(ptype & 1)))
        return out

    def wait_for(self, topic, payload, timeout, live=False):
        """The payload of topic once it equals payload (None: any); live: skip retained copies."""
        deadline = now_ns() + int(timeout * 1e9)
        while now_ns() < deadline:
            batch = self.poll((deadline - now_ns()) / 1e9)
            for i, (t, p, retained) in enumerate(batch):
                if t == topic and (payload is None or p == payload) and not (live and retained):
                    self.unread = batch[i + 1:] + self.unread
                    return p
        raise TimeoutError(f"{topic} != {payload!r} after {timeout} s")


# ---- the gateway process --------------------------------------------------------------------------

WEB_PORT = 18088


def write_config(path, port, web="off"):
    web_section = "web:\n  enabled: false\n" if web == "off" else f"web:\n  listen: 127.0.0.1:{WEB_PORT}\n"
    with open(path, "w") as f:
        f.write(web_section)
        f.write(f"""interfaces:
  - name: vcan0
    role: link
    rcvbuf: 1048576
devices:
  - serial: "{DI_SERIAL:08X}"
    type: di_extension
    name: {DI_NAME}
  - serial: "{RELAY_SERIAL:08X}"
    type: relay_extension
    name: {RELAY_NAME}
mqtt:
  broker: tcp://127.0.0.1:{port}
  client_id: loxcan-bench
  homeassistant: {{enabled: false}}
  rate_limit: 0          # benchmark: every MQTT command is executed at once
  stats_interval_s: 10   # bridge/stats (rxframes, rxoverflow) every 10 s: the loss count
discovery:
  enabled: false
""")


class StreamClient(threading.Thread):
    """A browser on the web view's live stream (every frame: /api/stream?frames=1): reads and counts."""

    def __init__(self):
        super().__init__(daemon=True)
        self.bytes = 0
        self.events = 0
        self.sock = socket.create_connection(("127.0.0.1", WEB_PORT), timeout=5)
        self.sock.sendall(b"GET /api/stream?frames=1 HTTP/1.1\r\nHost: bench\r\n\r\n")

    def run(self):
        self.sock.settimeout(None)
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            self.bytes += len(data)
            self.events += data.count(b"\nevent: ")


def wakeups(pid):
    """Voluntary context switches of every thread of `pid` (each is one sleep -> wake-up)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split()[1])
    return total


def start_gateway(binary, config, log, notify=None):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify:
        env["NOTIFY_SOCKET"] = notify
    return subprocess.Popen([binary, "--config", config], stdout=log, stderr=subprocess.STDOUT, env=env)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_breakdown(pid, binary):
    """kB resident per kind of mapping: the binary, shared libraries, heap + anonymous, other."""
    parts = {"binary": 0, "shared libraries": 0, "heap and anonymous": 0, "stacks and other": 0}
    libs = {}
    kind = name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else ""
                if os.path.realpath(name) == os.path.realpath(binary):
                    kind = "binary"
                elif ".so" in name:
                    kind = "shared libraries"
                elif name in ("", "[heap]"):
                    kind = "heap and anonymous"
                else:
                    kind = "stacks and other"
            elif head[0] == "Rss:":
                parts[kind] += int(head[1])
                if kind == "shared libraries":
                    libs[os.path.basename(name)] = libs.get(os.path.basename(name), 0) + int(head[1])
    return parts, sorted(libs.items(), key=lambda kv: -kv[1])


# ---- measurements ---------------------------------------------------------------------------------

def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure_ready(args, config, work):
    times = []
    for i in range(args.ready_runs):
        path = os.path.join(work, f"notify-{i}.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(path)
        with open(os.path.join(work, "gw-ready.log"), "a") as log:
            t0 = now_ns()
            proc = start_gateway(args.gateway, config, log, path)
            ready = None
            while ready is None and select.select([ns], [], [], 10)[0]:
                if b"READY=1" in ns.recv(4096).split(b"\n"):
                    ready = now_ns()
            stop(proc)
        ns.close()
        if ready is None:
            raise RuntimeError("no READY=1 within 10 s")
        times.append((ready - t0) / 1e6)
    return times


def measure_exec(argv, runs):
    """ms from exec to exit of a command that only loads (dynamic linking, static constructors)."""
    times = []
    for _ in range(runs):
        t0 = now_ns()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append((now_ns() - t0) / 1e6)
    return statistics.median(times)


def smaps_rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            head = line.split()
            if len(head) == 3 and head[2] == "kB":
                out[head[0].rstrip(":")] = int(head[1])
    return out


def bring_online(can, mq):
    """NAT offer + Start for the DI Extension, a Start for the Relay Extension; both must be
    reported online over MQTT (which also proves the gateway's CAN socket and broker link)."""
    mq.wait_for("loxcan/bridge/state", "online", 30)
    for text in [loxframes.nat(True, 0xFF, 0, 0xFD, DI_NAT, 0, DI_SERIAL),
                 *loxframes.start(DI_NAT, DI_SERIAL, 0x14), "0BFF0A01#8701000003109900"]:
        send_frame(can, can_frame(text))
    mq.wait_for(f"loxcan/{DI_NAME}/availability", "online", 30)
    mq.wait_for(f"loxcan/{RELAY_NAME}/availability", "online", 30)


class DiState:
    """The DI Extension's inputs. i1 is the latency probe; i2..i12 walk a Gray code for the load,
    so that every frame changes exactly one input: one decode, one event, one MQTT publish."""

    def __init__(self):
        self.mask, self.step = 0, 0

    def probe(self):
        self.mask ^= 1
        return di_frame(self.mask), "1" if self.mask & 1 else "0"

    def load(self):
        self.step += 1
        gray = (self.step ^ (self.step >> 1)) & 0x7FF
        self.mask = (self.mask & 1) | gray << 1
        return di_frame(self.mask)


def measure_can2mqtt(can, mq, di, samples):
    topic, lat, lost = f"loxcan/{DI_NAME}/i1", [], 0
    for _ in range(samples):
        raw, want = di.probe()
        send_frame(can, raw)
        t0 = now_ns()
        try:
            mq.wait_for(topic, want, 2)
            lat.append((now_ns() - t0) / 1e6)
        except TimeoutError:
            lost += 1
        time.sleep(0.002)
    return lat, lost


def measure_mqtt2can(mq, iface, samples):
    rx = can_socket(iface, RELAY_CMD_ID)
    topic, lat, lost = f"loxcan/{RELAY_NAME}/q1/set", [], 0
    for i in range(samples):
        on = i % 2 == 0
        t0 = now_ns()
        mq.publish(topic, "on" if on else "off")
        got = False
        while not got and select.select([rx], [], [], 2)[0]:
            ident, dlc, data = CAN_FRAME.unpack(rx.recv(16))
            got = data[0] == 0x60 and bool(data[4] & 1) == on
        if got:
            lat.append((now_ns() - t0) / 1e6)
        else:
            lost += 1
        mq.poll(0)  # drop what the bridge publishes back (command echo)
        time.sleep(0.002)
    rx.close()
    return lat, lost


def fresh_stats(mq, timeout=25):
    """The next bridge/stats the gateway publishes from now on (not the retained copy)."""
    deadline = now_ns() + int(timeout * 1e9)
    while now_ns() < deadline:
        for t, p, retained in mq.poll((deadline - now_ns()) / 1e9):
            if t == "loxcan/bridge/stats" and not retained:
                return json.loads(p)
    raise TimeoutError("no bridge/stats within %d s" % timeout)


def run_load(can, mq, di, pid, broker, rate, seconds):
    topic = f"loxcan/{DI_NAME}/i1"
    before = fresh_stats(mq)
    probe_every = 100_000_000
    sent = 0
    probes, lost_probes, pending = [], 0, None  # pending: (t0, expected payload)
    max_burst = 0
    clk = os.sysconf("SC_CLK_TCK")
    self0, cpu0, broker0 = os.times(), cpu_ticks(pid), cpu_ticks(broker) if broker else 0
    start = now_ns()
    next_probe = start + probe_every
    end = start + seconds * 1_000_000_000
    while True:
        now = now_ns()
        if now >= end:
            break
        due = rate * (now - start) // 1_000_000_000
        burst = 0
        while sent < due:
            if pending is None and now >= next_probe:
                raw, want = di.probe()
                send_frame(can, raw)
                pending = (now_ns(), want)
                next_probe += probe_every
            else:
                send_frame(can, di.load())
            sent += 1
            burst += 1
        max_burst = max(max_burst, burst)
        wait = ((sent + 1) * 1_000_000_000 // rate + start - now_ns()) / 1e9
        for t, p, _ in mq.poll(wait):
            if pending and t == topic and p == pending[1]:
                probes.append((now_ns() - pending[0]) / 1e6)
                pending = None
        if pending and now_ns() - pending[0] > 2_000_000_000:
            lost_probes += 1
            pending = None
    elapsed = (now_ns() - start) / 1e9
    cpu1, self1, broker1 = cpu_ticks(pid), os.times(), cpu_ticks(broker) if broker else 0
    after = fresh_stats(mq)
    # Drained when everything sent is counted (received or overflow), or the counters stand still.
    while True:
        done = after["rxframes"] + after["rxoverflow"] - before["rxframes"] - before["rxoverflow"]
        if done >= sent:
            break
        again = fresh_stats(mq)
        if again["rxframes"] == after["rxframes"] and again["rxoverflow"] == after["rxoverflow"]:
            break
        after = again
    received = int(after["rxframes"] - before["rxframes"])
    print(f"==   bridge/stats before {before}\n==   bridge/stats after  {after}", file=sys.stderr)
    return {
        "rate": rate, "seconds": elapsed, "sent": sent, "achieved": sent / elapsed,
        "received": received, "lost": sent - received,
        "overflow": int(after["rxoverflow"] - before["rxoverflow"]),
        "cpu": 100.0 * (cpu1 - cpu0) / clk / elapsed,
        "broker_cpu": 100.0 * (broker1 - broker0) / clk / elapsed,
        "driver_cpu": 100.0 * ((self1.user + self1.system) - (self0.user + self0.system)) / elapsed,
        "probes": probes, "lost_probes": lost_probes, "max_burst": max_burst,
    }


def paced(can, di, rate, count):
    start, sent = now_ns(), 0
    while sent < count:
        due = min(count, rate * (now_ns() - start) // 1_000_000_000)
        while sent < due:
            send_frame(can, di.load())
            sent += 1
        time.sleep(0.5 / rate)


def drive_profiled(args, config, wrapper, frames, rate, name):
    """Starts the gateway under `wrapper` (valgrind, strace), brings the devices online, sends
    `frames` load frames at `rate` and waits until the last one reached MQTT."""
    log = open(os.path.join(args.work, f"gw-{name}.log"), "w")
    proc = subprocess.Popen(wrapper + [args.gateway, "--config", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        can = can_socket(args.iface)
        mq = Mqtt(args.port, f"bench-{name}")
        mq.subscribe("loxcan/bridge/state", f"loxcan/{DI_NAME}/availability",
                     f"loxcan/{RELAY_NAME}/availability", f"loxcan/{DI_NAME}/i1")
        bring_online(can, mq)
        if args.web == "stream":  # the stream client reads every frame while the load runs
            StreamClient().start()
        di = DiState()
        paced(can, di, rate, frames)
        raw, want = di.probe()  # frames are handled in order: once this is out, all of them are
        send_frame(can, raw)
        mq.wait_for(f"loxcan/{DI_NAME}/i1", want, 60, live=True)
        if wrapper[0] == "strace":  # stop the traced gateway: strace then writes its summary and exits
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            for pid in children:
                os.kill(int(pid), signal.SIGTERM)
    finally:
        stop(proc)
        log.close()


def measure_callgrind(args, config, frames, rate):
    """Instructions per frame (user space, all threads) with the load profile, under callgrind:
    the main loop's frame path (CanPort::on_ready: read, decode, inventory, MQTT bridge, the
    libmosquitto publish that writes to the broker's socket), inclusive, divided by the frames
    sent. Start-up (dynamic linking, config) is in the process total only."""
    out = os.path.join(args.work, "callgrind.out")
    drive_profiled(args, config, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"], frames, rate,
                   "callgrind")
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                          capture_output=True, text=True).stdout
    def incl(name):
        for line in text.splitlines():
            if name in line:
                return int(line.split()[0].replace(",", ""))
        return 0
    total = 0
    for line in text.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
    parts = {"main loop frame path (CanPort::on_ready)": incl("CanPort::on_ready"),
             "of which decode + inventory (Inventory::feed)": incl("Inventory::feed("),
             "of which MQTT bridge (MqttBridge::handle)": incl("MqttBridge::handle("),
             "of which libmosquitto publish (mosquitto_publish)": incl("mosquitto_publish"),
             "other threads (start_thread)": incl("start_thread")}
    return frames, total, incl("_dl_start"), parts


def measure_syscalls(args, config, frames, rate):
    """System calls per load frame, by name (strace -c over the whole run, start-up included,
    divided by the frames sent): exact counts, unlike times, and what a native kernel pays too."""
    out = os.path.join(args.work, "strace.txt")
    drive_profiled(args, config, ["strace", "-f", "-c", "-o", out], frames, rate, "strace")
    counts = {}
    with open(out) as f:
        for line in f:
            cols = line.split()
            if len(cols) >= 5 and cols[0][0].isdigit() and cols[-1] not in ("total",):
                calls = int(cols[3])
                counts[cols[-1]] = calls
    return frames, counts


# ---- report ---------------------------------------------------------------------------------------

def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    host_model = os.environ.get("BENCH_HOST_CPU", "")
    host_nproc = os.environ.get("BENCH_HOST_NPROC", "")
    return model, os.cpu_count(), host_model, host_nproc


def ms(x):
    return f"{x:.2f}"


IDLE = {}


def report(args, grind, calls, ready, exec_gw, exec_true, c2m, m2c, loads, idle_cpu, hwm, rss, roll, parts, libs):
    model, ncpu, host_model, host_nproc = machine()
    c2m_lat, c2m_lost = c2m
    m2c_lat, m2c_lost = m2c
    out = []
    w = out.append
    w(f"# loxcan-gateway end to end ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)")
    w("")
    w(f"- Machine: host {host_model or model}, {host_nproc or '?'} CPUs (shared with other jobs); "
      f"the benchmark ran inside User-Mode Linux (`scripts/vcan-sandbox`, kernel {platform.release()}, "
      f"{ncpu} CPU) that the gateway, mosquitto and this Python driver share. UML makes every system call "
      "a round trip through a host process (ptrace), so system calls cost many times what they cost on "
      "a native kernel: the figures are an upper bound, not what a Raspberry Pi would show.")
    w(f"- Build: {args.build_type}, `{args.gateway}`")
    w(f"- Web view: {args.web}" + (f" ({IDLE['stream']})" if IDLE.get("stream") else "") +
      f"; gateway wake-ups in the 10 s idle period: {IDLE.get('wakeups', '?')} (voluntary context switches)")
    w(f"- Load: DI Extension value frames (29-bit, 8 bytes) from one raw socket, paced on the monotonic "
      f"clock, {args.seconds} s per rate; every frame changes exactly one input (one decode, one event, "
      "one MQTT publish: the worst case). An i1 probe every 100 ms measures CAN->MQTT latency under load. "
      "Lost = sent - the gateway's own `rxframes` count (bridge/stats); overflow = its `rxoverflow`.")
    w("- mqtt.rate_limit: 0 (unlimited) for the MQTT->CAN run; Home Assistant discovery and Miniserver "
      "discovery off; interface rcvbuf 1 MiB.")
    w("")
    w("| rate | frames/s (achieved) | sent | counted by gateway | lost | rxoverflow | gateway CPU % of one core | CAN->MQTT p50 / p99 ms under load (probes) | mosquitto CPU % | driver CPU % |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for r in loads:
        p = r["probes"]
        lat = f"{ms(pct(p, 50))} / {ms(pct(p, 99))} ({len(p)}, {r['lost_probes']} lost)" if p else "-"
        w(f"| {r['rate'] // LINK_RATE}x | {r['rate']} ({r['achieved']:.0f}) | {r['sent']} | {r['received']} | "
          f"{r['lost']} | {r['overflow']} | {r['cpu']:.1f} | {lat} | {r['broker_cpu']:.0f} | {r['driver_cpu']:.0f} |")
    w("")
    w("| measurement | result | target |")
    w("|---|---|---|")
    if c2m_lat:
        w(f"| CAN->MQTT latency, no load (ping-pong, {len(c2m_lat)} samples, {c2m_lost} lost) | "
          f"p50 {ms(pct(c2m_lat, 50))} ms, p99 {ms(pct(c2m_lat, 99))} ms, max {ms(max(c2m_lat))} ms | p99 < 1 ms |")
    if m2c_lat:
        w(f"| MQTT /set -> CAN latency (ping-pong, {len(m2c_lat)} samples, {m2c_lost} lost) | "
          f"p50 {ms(pct(m2c_lat, 50))} ms, p99 {ms(pct(m2c_lat, 99))} ms, max {ms(max(m2c_lat))} ms | p99 < 2 ms |")
    if loads:
        one = [r for r in loads if r["rate"] == LINK_RATE]
        if one:
            w(f"| CPU at 1x ({LINK_RATE} frames/s) | {one[0]['cpu']:.1f} % of one core | < 3 % |")
        top = max(loads, key=lambda r: r["rate"])
        w(f"| frames lost at {top['rate'] // LINK_RATE}x | {top['lost']} of {top['sent']} | 0 at 3x |")
    w(f"| CPU idle (bus silent, 10 s) | {idle_cpu:.2f} % of one core | |")
    w(f"| peak RSS (VmHWM) | {hwm / 1024:.1f} MiB (VmRSS {rss / 1024:.1f} MiB; PSS {roll.get('Pss', 0) / 1024:.1f} MiB, "
      f"private {(roll.get('Private_Clean', 0) + roll.get('Private_Dirty', 0)) / 1024:.1f} MiB) | < 6 MB |")
    if ready:
        w(f"| exec -> READY=1 ({len(ready)} starts) | median {ms(statistics.median(ready))} ms, "
          f"max {ms(max(ready))} ms | < 100 ms |")
        w(f"| for comparison: exec -> exit of `loxcan-gateway --version` / `/bin/true` (median of 10) | "
          f"{ms(exec_gw)} ms / {ms(exec_true)} ms | |")
    if grind:
        n, total, dl, gparts = grind
        w("")
        w(f"callgrind ({n} load frames at 200 frames/s, user-space instructions per frame, inclusive): " +
          ", ".join(f"{k} {v // n}" for k, v in gparts.items()) + f"; whole process incl. start-up {total // n}. "
          f"Start-up: dynamic linking (ld.so `_dl_start`) {dl / 1e6:.1f} M instructions of {total / 1e6:.1f} M "
          "for the whole run.")
    if calls:
        n, counts = calls
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        w("")
        w(f"System calls per load frame (strace -f -c, {n} frames at 200 frames/s, start-up included): "
          f"{sum(counts.values()) / n:.2f} in all: " +
          ", ".join(f"{k} {v / n:.2f}" for k, v in top if v / n >= 0.01) + ".")
    w("")
    w("Resident memory at the end, by mapping (kB): " +
      ", ".join(f"{k} {v}" for k, v in parts.items()) +
      f". All {len(libs)} shared libraries, largest first: " + ", ".join(f"{k} {v}" for k, v in libs) + ".")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--port", type=int, required=True, help="mosquitto on 127.0.0.1:PORT")
    ap.add_argument("--broker-pid", type=int, default=0, help="mosquitto's pid (its CPU is reported too)")
    ap.add_argument("--iface", default="vcan0")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rates", default="1 2 3", help="multiples of 954 frames/s")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--ready-runs", type=int, default=10)
    ap.add_argument("--callgrind-frames", type=int, default=3000, help="0: no callgrind run")
    ap.add_argument("--build-type", default="unknown")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", help="also write the Markdown here")
    ap.add_argument("--web", choices=["off", "idle", "stream"], default="off",
                    help="web view disabled, enabled with nobody connected, or one client on the live stream")
    args = ap.parse_args()

    config = os.path.join(args.work, "loxcan.yaml")
    write_config(config, args.port, args.web)
    say = lambda *a: print("==", *a, file=sys.stderr, flush=True)  # noqa: E731

    say(f"READY latency over {args.ready_runs} starts")
    ready = measure_ready(args, config, args.work)
    exec_gw = measure_exec([args.gateway, "--version"], args.ready_runs)
    exec_true = measure_exec(["/bin/true"], args.ready_runs)
    log = open(os.path.join(args.work, "gw.log"), "w")
    gw = start_gateway(args.gateway, config, log)
    try:
        can = can_socket(args.iface)
        mq = Mqtt(args.port, "bench-driver")
        mq.subscribe("loxcan/bridge/state", f"loxcan/{DI_NAME}/i1", f"loxcan/{DI_NAME}/availability",
                     f"loxcan/{RELAY_NAME}/availability", "loxcan/bridge/stats")
        bring_online(can, mq)
        di = DiState()
        say(f"CAN->MQTT latency, {args.samples} samples")
        c2m = measure_can2mqtt(can, mq, di, args.samples)
        say(f"MQTT->CAN latency, {args.samples} samples")
        m2c = measure_mqtt2can(mq, args.iface, args.samples)
        say("idle CPU, 10 s")
        c0, w0 = cpu_ticks(gw.pid), wakeups(gw.pid)
        time.sleep(10)
        idle = 100.0 * (cpu_ticks(gw.pid) - c0) / os.sysconf("SC_CLK_TCK") / 10
        IDLE["wakeups"] = wakeups(gw.pid) - w0
        stream = None
        if args.web == "stream":
            stream = StreamClient()
            stream.start()
        loads = []
        for mult in args.rates.split():
            rate = int(float(mult) * LINK_RATE)
            say(f"load {mult}x = {rate} frames/s for {args.seconds} s")
            loads.append(run_load(can, mq, di, gw.pid, args.broker_pid, rate, args.seconds))
            r = loads[-1]
            say(f"  sent {r['sent']} counted {r['received']} lost {r['lost']} overflow {r['overflow']} "
                f"cpu {r['cpu']:.1f}% probes {len(r['probes'])}")
        if stream:
            IDLE["stream"] = f"{stream.events} events, {stream.bytes / 1048576:.1f} MiB read by the stream client"
        hwm, rss = proc_status(gw.pid, "VmHWM"), proc_status(gw.pid, "VmRSS")
        parts, libs = rss_breakdown(gw.pid, args.gateway)
        roll = smaps_rollup(gw.pid)
    finally:
        stop(gw)
        log.close()
    grind = None
    if args.callgrind_frames and subprocess.run(["which", "valgrind"], capture_output=True).returncode == 0:
        say(f"callgrind: {args.callgrind_frames} frames")
        grind = measure_callgrind(args, config, args.callgrind_frames, 200)
    calls = None
    if args.callgrind_frames and subprocess.run(["which", "strace"], capture_output=True).returncode == 0:
        say(f"strace: {args.callgrind_frames} frames")
        calls = measure_syscalls(args, config, args.callgrind_frames, 200)
    text = report(args, grind, calls, ready, exec_gw, exec_true, c2m, m2c, loads, idle, hwm, rss, roll, parts, libs)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
