#!/usr/bin/env python3
"""Soak: mixed load against a mesh of `dsmesh` processes, sampling memory and KV cache use.

Starts redis-server, a frontend silo, 2 expert silos and a gateway (Redis membership) on loopback, then
for DURATION seconds runs WORKERS clients that each loop over a seeded mix of requests: streamed chats
read to the end, streams cancelled mid-way, non-streamed chats and completions, bad requests, and
clients that disconnect before the answer. Every SAMPLE seconds it writes each process's resident
memory (VmRSS) and the engine's KV cache blocks in use (GET /v1/mesh) to soak.csv, then idles and
checks: after warm-up each process's RSS grows < 5 %; KV blocks return to 0 at idle; no thread-pool
starvation warnings in the logs. Writes soak.svg (the curves) and soak-summary.txt; exit status 1 when
a check fails. Python 3 standard library only.

Usage: bench/soak/soak.py [--duration 600] [--workers 8] [--model DIR] [--out DIR]
"""
import argparse, http.client, json, os, random, re, shutil, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DSMESH = os.path.join(ROOT, "src", "DeepSeekMesh.Cli", "bin", "Release", "net10.0", "dsmesh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return float("nan")
    return float("nan")


class Mesh:
    """redis-server + frontend + 2 expert silos + gateway, logs under out/logs."""

    def __init__(self, model, out):
        self.model, self.logs, self.procs = model, os.path.join(out, "logs"), {}
        os.makedirs(self.logs, exist_ok=True)
        self.redis_port, self.http_port = free_port(), free_port()

    def start(self, name, args, env=None):
        log = open(os.path.join(self.logs, f"{name}.log"), "w")
        e = dict(os.environ, Logging__LogLevel__Default="Warning", Logging__Console__TimestampFormat="HH:mm:ss.fff ", **(env or {}))
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=e)

    def up(self):
        self.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"])
        time.sleep(0.5)
        redis = ["--redis", f"127.0.0.1:{self.redis_port}", "--cluster-id", "soak"]
        for name, role in [("frontend", "frontend"), ("expert1", "expert"), ("expert2", "expert")]:
            self.start(name, [DSMESH, "silo", "--role", role, "--model", self.model, "--silo-port", str(free_port()),
                              "--gateway-port", str(free_port()), "--threads", "1", *redis])
        self.start("gateway", [DSMESH, "gateway", "--model", self.model, "--port", str(self.http_port), *redis])
        deadline = time.time() + 180
        while time.time() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    sys.exit(f"{name} exited ({p.returncode}): see {self.logs}/{name}.log")
            try:
                if request(self.http_port, "GET", "/health/ready", timeout=10)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(1)
        sys.exit(f"the mesh did not get ready in 180 s: see {self.logs}")

    def down(self):
        """SIGTERM: the gateway, then the silos (expert silos drain), Redis last; SIGKILL what lingers."""
        for group in (["gateway"], ["frontend", "expert1", "expert2"], ["redis"]):
            for name in group:
                if self.procs[name].poll() is None:
                    self.procs[name].terminate()
            for name in group:
                try:
                    self.procs[name].wait(timeout=40)
                except subprocess.TimeoutExpired:
                    self.procs[name].kill()


def request(port, method, path, body=None, timeout=60, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        c.request(method, path, body=data, headers=headers or ({"Content-Type": "application/json"} if data is not None else {}))
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


BAD = [b"{not json", b'{"messages":"hi"}', b'{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}',
       b'{"messages":[{"role":"user","content":"\xc3\x28"}]}', b'{"prompt":"x","temperature":"hot"}', b"[]",
       b'{"messages":[{"role":"wizard","content":"x"}]}', b'{"messages":[{"role":"user","content":"x"}],"n":1000}']


class Load:
    """Workers looping over the mix; counts outcomes per kind."""

    def __init__(self, port, workers, seed):
        self.port, self.workers, self.seed = port, workers, seed
        self.stop, self.lock, self.counts = threading.Event(), threading.Lock(), {}

    def count(self, kind, outcome):
        with self.lock:
            self.counts[f"{kind}:{outcome}"] = self.counts.get(f"{kind}:{outcome}", 0) + 1

    def chat(self, rnd, stream, max_tokens):
        return {"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": f"Soak {rnd.randrange(1 << 30)}: tell a story."}],
                "max_tokens": max_tokens, "stream": stream, "temperature": rnd.choice([0, 0.7, 1.0]), "seed": rnd.randrange(1000)}

    def stream(self, rnd, max_tokens, cancel_after=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("POST", "/v1/chat/completions", json.dumps(self.chat(rnd, True, max_tokens)), {"Content-Type": "application/json"})
            r = c.getresponse()
            if r.status != 200:
                r.read()
                return f"status{r.status}"
            frames = 0
            while True:
                line = r.readline()
                if not line:
                    return "cut"  # ended without [DONE]
                if line.startswith(b"data: "):
                    frames += 1
                    if b'"error"' in line:
                        return "error-event"
                    if line.strip() == b"data: [DONE]":
                        return "ok"
                    if cancel_after is not None and frames >= cancel_after:
                        return "cancelled"  # closing the connection cancels the generation
        finally:
            c.close()

    def disconnect(self, rnd):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        body = json.dumps(self.chat(rnd, False, 128)).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        time.sleep(rnd.uniform(0, 0.5))
        s.close()  # gone before the answer
        return "ok"

    def one(self, rnd):
        kind = rnd.choices(["stream", "cancel", "json", "completion", "bad", "disconnect"], [35, 20, 15, 10, 10, 10])[0]
        try:
            if kind == "stream":
                outcome = self.stream(rnd, rnd.randint(8, 64))
            elif kind == "cancel":
                outcome = self.stream(rnd, 512, cancel_after=rnd.randint(2, 8))
            elif kind == "json":
                status, _ = request(self.port, "POST", "/v1/chat/completions", self.chat(rnd, False, rnd.randint(4, 32)))
                outcome = "ok" if status == 200 else f"status{status}"
            elif kind == "completion":
                status, _ = request(self.port, "POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 16, "n": 2, "seed": rnd.randrange(100)})
                outcome = "ok" if status == 200 else f"status{status}"
            elif kind == "bad":
                status, _ = request(self.port, "POST", "/v1/chat/completions", rnd.choice(BAD))
                outcome = "4xx" if 400 <= status < 500 else f"status{status}"
            else:
                outcome = self.disconnect(rnd)
        except (OSError, http.client.HTTPException) as e:
            outcome = f"exception:{type(e).__name__}"
        self.count(kind, outcome)

    def worker(self, index):
        rnd = random.Random(self.seed * 1000 + index)
        while not self.stop.is_set():
            self.one(rnd)
            time.sleep(rnd.uniform(0, 0.2))

    def run(self):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.workers)]
        for t in threads:
            t.start()
        return threads


def sample(mesh, t0, phase):
    row = {"t": round(time.time() - t0, 1), "phase": phase}
    for name in ("frontend", "expert1", "expert2", "gateway"):
        row[f"rss_{name}_mib"] = round(rss_mib(mesh.procs[name].pid), 1)
    try:
        status, body = request(mesh.http_port, "GET", "/v1/mesh", timeout=10)
        engine = json.loads(body).get("engine", {}) if status == 200 else {}
    except (OSError, ValueError, http.client.HTTPException):
        engine = {}
    row["kv_blocks_used"] = engine.get("cache_blocks_used", "")
    row["running"] = engine.get("running", "")
    row["waiting"] = engine.get("waiting", "")
    return row


def svg(rows, path, warmup):
    """Two panels: RSS per process (MiB) and KV cache blocks in use, against time."""
    w, h, pad = 960, 560, 60
    panels = [("resident memory (MiB)", ["rss_frontend_mib", "rss_expert1_mib", "rss_expert2_mib", "rss_gateway_mib"], 40, 300),
              ("KV cache blocks in use", ["kv_blocks_used"], 360, 500)]
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    tmax = max(r["t"] for r in rows) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    x = lambda t: pad + (w - 2 * pad) * t / tmax
    for title, keys, top, bottom in panels:
        values = [float(r[k]) for r in rows for k in keys if r[k] not in ("", None) and r[k] == r[k]]
        vmax = max(values + [1]) * 1.05
        y = lambda v: bottom - (bottom - top) * v / vmax
        out.append(f'<text x="{pad}" y="{top - 8}" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{pad}" y1="{bottom}" x2="{w - pad}" y2="{bottom}" stroke="black"/><line x1="{pad}" y1="{top}" x2="{pad}" y2="{bottom}" stroke="black"/>')
        for frac in (0, 0.5, 1):
            out.append(f'<text x="{pad - 6}" y="{y(vmax * frac / 1.05) + 4}" text-anchor="end">{vmax * frac / 1.05:.0f}</text>')
        out.append(f'<line x1="{x(warmup)}" y1="{top}" x2="{x(warmup)}" y2="{bottom}" stroke="#999" stroke-dasharray="4"/>')
        idle = next((r["t"] for r in rows if r["phase"] == "idle"), None)
        if idle is not None:
            out.append(f'<line x1="{x(idle)}" y1="{top}" x2="{x(idle)}" y2="{bottom}" stroke="#999" stroke-dasharray="2"/>')
        for i, k in enumerate(keys):
            pts = " ".join(f"{x(r['t']):.1f},{y(float(r[k])):.1f}" for r in rows if r[k] not in ("", None) and r[k] == r[k])
            out.append(f'<polyline fill="none" stroke="{colors[i]}" stroke-width="1.5" points="{pts}"/>')
            out.append(f'<text x="{pad + 10 + 170 * i}" y="{top + 14}" fill="{colors[i]}">{k.replace("rss_", "").replace("_mib", "")}</text>')
    out.append(f'<text x="{w / 2}" y="{h - 20}" text-anchor="middle">seconds (dashed: end of warm-up, start of idle)</text></svg>')
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=600, help="seconds of load")
    ap.add_argument("--warmup", type=int, default=120, help="seconds of load before memory is compared")
    ap.add_argument("--idle", type=int, default=60, help="seconds of idle after the load")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--model", help="model directory with tokenizer (default: a tiny preset written by dsmesh init-model)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "soak", "results"))
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.no_build:
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "src", "DeepSeekMesh.Cli"), "-v", "q", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    scratch = tempfile.mkdtemp(prefix="dsmesh-soak-")
    try:
        model = a.model
        if model is None:
            model = os.path.join(scratch, "tiny")
            subprocess.run([DSMESH, "init-model", "--preset", "tiny", "--out", model, "--seed", "7",
                            "--tokenizer", os.path.join(ROOT, "assets", "tokenizer", "deepseek-v3")], check=True, stdout=subprocess.DEVNULL)
        mesh = Mesh(model, a.out)
        mesh.up()
        load = Load(mesh.http_port, a.workers, a.seed)
        rows, t0 = [], time.time()
        threads = load.run()
        try:
            while time.time() - t0 < a.duration:
                time.sleep(a.sample)
                rows.append(sample(mesh, t0, "load"))
                print(rows[-1], flush=True)
            load.stop.set()
            for t in threads:
                t.join(timeout=90)
            idle_start = time.time()
            while time.time() - idle_start < a.idle:
                time.sleep(a.sample)
                rows.append(sample(mesh, t0, "idle"))
                print(rows[-1], flush=True)
        finally:
            mesh.down()
        keys = list(rows[0].keys())
        with open(os.path.join(a.out, "soak.csv"), "w") as f:
            f.write(",".join(keys) + "\n")
            for r in rows:
                f.write(",".join(str(r[k]) for k in keys) + "\n")
        svg(rows, os.path.join(a.out, "soak.svg"), a.warmup)

        lines, ok = [], True
        load_rows = [r for r in rows if r["phase"] == "load"]
        after = [r for r in load_rows if a.warmup <= r["t"] < a.warmup + 60]
        last = [r for r in load_rows if r["t"] >= a.duration - 60]
        for name in ("frontend", "expert1", "expert2", "gateway"):
            k = f"rss_{name}_mib"
            start, end = sum(r[k] for r in after) / len(after), sum(r[k] for r in last) / len(last)
            growth = 100 * (end - start) / start
            ok &= growth < 5
            windows = [[r[k] for r in load_rows if w <= r["t"] < w + 120] for w in range(0, a.duration, 120)]
            trend = " → ".join(f"{sum(v) / len(v):.0f}" for v in windows if v)
            lines.append(f"{name}: RSS {start:.0f} MiB in the minute after warm-up, {end:.0f} MiB in the last minute of load: {growth:+.1f} % (peak {max(r[k] for r in rows):.0f} MiB) {'ok' if growth < 5 else 'FAIL (>= 5 %)'}; mean per 2 minutes: {trend}")
        idle_kv = [r["kv_blocks_used"] for r in rows if r["phase"] == "idle"]
        kv_ok = bool(idle_kv) and idle_kv[-1] == 0
        ok &= kv_ok
        lines.append(f"KV cache blocks in use: peak {max((r['kv_blocks_used'] or 0) for r in load_rows)} under load; at idle {idle_kv} {'ok' if kv_ok else 'FAIL (not 0)'}")
        starving = {}
        for name in mesh.procs:
            with open(os.path.join(mesh.logs, f"{name}.log"), errors="replace") as f:
                text = f.read()
            starving[name] = (len(re.findall(r"thread ?pool starvation|starvation detected", text, re.I)), len(re.findall(r"CPU starvation", text)))
        pool = sum(s[0] for s in starving.values())
        ok &= pool == 0
        lines.append("thread-pool starvation warnings: " + ", ".join(f"{n} {s[0]}" for n, s in starving.items()) + (" ok" if pool == 0 else " FAIL")
                     + "; Orleans watchdog 'CPU starvation' notes (machine load): " + ", ".join(f"{n} {s[1]}" for n, s in starving.items()))
        lines.append("requests: " + ", ".join(f"{k} {v}" for k, v in sorted(load.counts.items())))
        bad = sum(v for k, v in load.counts.items() if "status5" in k or "exception" in k)
        lines.append(f"5xx or failed connections: {bad}")
        lines.append(f"load average at the end: {os.getloadavg()}")
        summary = "\n".join(lines)
        print(summary)
        with open(os.path.join(a.out, "soak-summary.txt"), "w") as f:
            f.write(summary + "\n")
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
