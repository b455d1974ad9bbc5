# slow_listener.py LISTEN_PORT BROKER_PORT DELAY_S: a TCP listener on 127.0.0.1 whose accept queue
# is full for DELAY_S seconds (the kernel drops SYNs, so a client's non-blocking connect stays in
# progress), then accepts and forwards every connection to the broker on BROKER_PORT.
import os, socket, sys, threading, time
listen_port, broker_port = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port)); ls.listen(0)
fillers = []
for _ in range(2):
    f = socket.socket(); f.setblocking(False)
    try: f.connect(("127.0.0.1", listen_port))
    except BlockingIOError: pass
    fillers.append(f)
print("backlog full", os.getpid(), flush=True)
time.sleep(float(sys.argv[3]))

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    c, addr = ls.accept()
    if addr[1] in [f.getsockname()[1] for f in fillers]:
        continue
    u = socket.create_connection(("127.0.0.1", broker_port))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    print("proxied", addr, flush=True)
