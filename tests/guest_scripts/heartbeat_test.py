#!/usr/bin/env python3
"""guest-scripts/linux/paddock-heartbeat against a tiny HTTP listener on 127.0.0.1.

    heartbeat_test.py PATH/TO/paddock-heartbeat

Runs the same checks under dash with every HTTP client present (curl, GNU wget, busybox wget),
and under busybox ash with busybox wget (the combination Paddock's test guest has): one
heartbeat (--once) and its exit status, the loop's rate, a closed port (keeps going, logs once),
recovery, the disable file, SIGTERM during a request and during the sleep, the bearer token (in
the Authorization header, never on a command line; refused with busybox wget), refused status
words, the configuration's precedence and a config file that is parsed, never run.
"""
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SCRIPT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
failures = []


def check(cond, what, detail=""):
    """Prints the check; `detail` (e.g. the script's stderr) only when it failed."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if detail:
            print("     " + detail.rstrip().replace("\n", "\n     "), flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Listener:
    """Records every request (method, path, headers) when it arrives, before answering.
    Paths under /slow/ answer after `delay` seconds; under /fail/ with 500."""

    def __init__(self, port=0, delay=3.0):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                with outer.lock:
                    outer.requests.append((self.command, self.path, dict(self.headers)))
                if self.path.startswith("/slow/"):
                    time.sleep(delay)
                code = 500 if self.path.startswith("/fail/") else 200
                body = b'{"message": "Heartbeat received", "details": null}'
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout, SIGTERM)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.daemon_threads = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def got(self, prefix=""):
        with self.lock:
            return [r for r in self.requests if r[1].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class Run:
    """paddock-heartbeat under `shell`, stderr captured to a file."""

    def __init__(self, shell, args, env, workdir):
        self.errpath = os.path.join(workdir, "stderr-%d.log" % time.monotonic_ns())
        self.err = open(self.errpath, "w+")
        self.proc = subprocess.Popen(shell + [SCRIPT] + args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err)

    def stderr(self):
        with open(self.errpath) as f:
            return f.read()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def term(self, timeout=3.0):
        """SIGTERM; the exit status, or None when it did not exit within `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self):
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def suite(label, shell, client, workdir):
    print("--- %s" % label, flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_HEARTBEAT_")}
    env.update(PADDOCK_HEARTBEAT_CLIENT=client, TMPDIR=os.path.join(workdir, "tmp"),
               PADDOCK_HEARTBEAT_DISABLE_FILE=os.path.join(workdir, "disabled"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    # Nothing from the machine: no /etc/paddock/heartbeat.conf (an empty config file instead).
    empty_conf = os.path.join(workdir, "empty.conf")
    open(empty_conf, "w").close()
    base = ["--config", empty_conf]
    listener = Listener()

    def run(args, extra_env=None):
        e = dict(env)
        e.update(extra_env or {})
        return Run(shell, base + args, e, workdir)

    def once(args, extra_env=None, timeout=15):
        r = run(["--once"] + args, extra_env)
        rc = r.wait(timeout)
        if rc is None:
            r.kill()
        return rc, r.stderr()

    try:
        # One heartbeat.
        rc, err = once(["--url", listener.url("/api/v1/vms/exhibit/heartbeat")])
        got = listener.got("/api/v1/vms/exhibit/")
        check(rc == 0, "%s: --once exits 0 (%r)" % (label, rc), err)
        check([(m, p) for m, p, _ in got] == [("GET", "/api/v1/vms/exhibit/heartbeat?status=ok")],
              "%s: --once sends one GET with status=ok (%r)" % (label, got))
        check(bool(got) and got[0][2].get("User-Agent") == "paddock-heartbeat",
              "%s: User-Agent paddock-heartbeat" % label)
        check(bool(got) and "Authorization" not in got[0][2], "%s: no Authorization without a token" % label)

        # A URL with a query of its own, the status from the environment.
        rc, _ = once(["--url", listener.url("/api/v1/heartbeat?vm=x")], {"PADDOCK_HEARTBEAT_STATUS": "idle-1.0_a"})
        check(rc == 0 and [p for _, p, _ in listener.got("/api/v1/heartbeat")] == ["/api/v1/heartbeat?vm=x&status=idle-1.0_a"],
              "%s: status appended to an existing query" % label)

        # Refused: an error answer, a closed port, a bad status (nothing sent).
        rc, err = once(["--url", listener.url("/fail/hb")])
        check(rc == 1 and "failed" in err, "%s: --once exits 1 on an HTTP 500 (%r)" % (label, rc))
        closed = free_port()
        rc, err = once(["--url", "http://127.0.0.1:%d/hb" % closed])
        check(rc == 1, "%s: --once exits 1 on a closed port (%r)" % (label, rc))
        for bad in ["a b", "x&y=1", "caf\u00e9", "a/b", "$(id)", "%41", "-" * 65]:
            rc, err = once(["--url", listener.url("/bad/hb"), "--status", bad])
            check(rc == 2 and "status" in err, "%s: status %r refused (%r)" % (label, bad, rc))
        check(listener.got("/bad/") == [], "%s: nothing sent for a refused status" % label)
        rc, err = once(["--url", listener.url("/bad/hb"), "--interval", "0"])
        check(rc == 2, "%s: interval 0 refused" % label)

        # The loop: interval 0.2 s for 1.5 s gives at least 3 heartbeats; SIGTERM ends it promptly.
        r = run(["--url", listener.url("/loop/hb"), "--interval", "0.2"])
        time.sleep(1.5)
        n = len(listener.got("/loop/"))
        check(r.proc.poll() is None, "%s: the loop keeps running" % label)
        check(n >= 3, "%s: >= 3 heartbeats in 1.5 s at interval 0.2 (%d)" % (label, n))
        t0 = time.monotonic()
        rc = r.term()
        check(rc == 0, "%s: SIGTERM: exit 0 (%r) in %.2f s" % (label, rc, time.monotonic() - t0))
        check(os.listdir(env["TMPDIR"]) == [], "%s: its temporary directory is gone after SIGTERM" % label)

        # A long interval: SIGTERM during the sleep does not wait for the sleep to end.
        r = run(["--url", listener.url("/long/hb"), "--interval", "30"])
        wait_for(lambda: listener.got("/long/"), 10)
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = r.term(timeout=3)
        check(rc == 0, "%s: SIGTERM during a 30 s sleep exits at once (%r, %.2f s)" % (label, rc, time.monotonic() - t0))

        # Nobody listening: keeps going, says so once; when the listener comes, once more.
        port = free_port()
        r = run(["--url", "http://127.0.0.1:%d/back/hb" % port, "--interval", "0.2"])
        time.sleep(1.5)
        err = r.stderr()
        check(r.proc.poll() is None, "%s: a closed port does not end the loop" % label)
        check(err.count("heartbeat failing") == 1, "%s: the failure is logged once" % label, err)
        back = Listener(port=port)
        try:
            ok = wait_for(lambda: len(back.got("/back/")) >= 2, 10)
            check(ok, "%s: heartbeats resume when the listener appears" % label)
            time.sleep(0.5)
            err = r.stderr()
            check(err.count("heartbeat failing") == 1 and err.count("accepted again") == 1,
                  "%s: recovery logged once" % label, err)
            rc = r.term()
            check(rc == 0, "%s: SIGTERM after recovery: exit 0 (%r)" % (label, rc))
        finally:
            back.close()

        # The disable file: nothing is sent while it exists; removed, heartbeats resume.
        disabled = env["PADDOCK_HEARTBEAT_DISABLE_FILE"]
        open(disabled, "w").close()
        rc, err = once(["--url", listener.url("/dis/once")])
        check(rc == 1 and "disabled" in err, "%s: --once refuses while the disable file exists" % label)
        r = run(["--url", listener.url("/dis/hb"), "--interval", "0.2"])
        time.sleep(1.0)
        check(listener.got("/dis/") == [], "%s: no heartbeat while disabled" % label)
        os.unlink(disabled)
        check(wait_for(lambda: len(listener.got("/dis/hb")) >= 2, 10), "%s: heartbeats resume when enabled" % label)
        err = r.stderr()
        check(err.count("disabled while") == 1, "%s: disabling logged once" % label)
        r.term()

        # The token: sent as a bearer header, never on a command line; checked while a request
        # is in flight (the listener answers /slow/ after 3 s), which SIGTERM then cuts short.
        token = "tok-" + os.urandom(12).hex() + "_~+/="
        token_file = os.path.join(workdir, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, 0o600)
        if client == "busybox":
            rc, err = once(["--url", listener.url("/tok/hb"), "--token-file", token_file])
            check(rc == 2 and "busybox wget" in err, "%s: a token with busybox wget is refused (%r)" % (label, rc))
            check(listener.got("/tok/") == [], "%s: nothing sent with a refused token" % label)
        else:
            r = run(["--url", listener.url("/slow/hb"), "--token-file", token_file, "--timeout", "10"])
            arrived = wait_for(lambda: listener.got("/slow/"), 10)
            seen, leaks, client_seen = [], [], False
            if arrived:
                for pid in [r.proc.pid] + descendants(r.proc.pid):
                    line = cmdline(pid)
                    seen.append(line)
                    client_seen = client_seen or ("curl" in line or "wget" in line)
                    if token in line:
                        leaks.append(line)
            got = listener.got("/slow/")
            check(arrived and got[0][2].get("Authorization") == "Bearer " + token,
                  "%s: the token arrives as Authorization: Bearer" % label)
            check(client_seen, "%s: the HTTP client was caught running (%r)" % (label, seen))
            check(not leaks, "%s: the token is on no command line (%r)" % (label, leaks))
            check(token not in r.stderr(), "%s: the token is not logged" % label)
            t0 = time.monotonic()
            rc = r.term()
            check(rc == 0 and time.monotonic() - t0 < 2.5,
                  "%s: SIGTERM during a request: exit 0 (%r) in %.2f s" % (label, rc, time.monotonic() - t0))
            time.sleep(0.2)
            check(all(not cmdline(p) for p in descendants(r.proc.pid)), "%s: no client left behind" % label)
            check(os.listdir(env["TMPDIR"]) == [], "%s: no header file left behind" % label)
            rc, err = once(["--url", listener.url("/tok/hb"), "--token-file", os.path.join(workdir, "missing")])
            check(rc == 2, "%s: an unreadable token file is refused (%r)" % (label, rc))
            with open(token_file, "w") as f:
                f.write("bad token\n")
            rc, err = once(["--url", listener.url("/tok/hb"), "--token-file", token_file])
            check(rc == 2 and "bad token" not in err, "%s: a malformed token is refused and not echoed" % label)

        # Timeout: an answer slower than --timeout fails --once, within the timeout's reach.
        t0 = time.monotonic()
        rc, err = once(["--url", listener.url("/slow/timeout"), "--timeout", "1"])
        took = time.monotonic() - t0
        check(rc == 1 and took < 2.9, "%s: --timeout 1 against a 3 s answer fails (%r) in %.2f s" % (label, rc, took))

        # Configuration: file < environment < option; the file is parsed, never run.
        conf = os.path.join(workdir, "hb.conf")
        pwned = os.path.join(workdir, "pwned")
        with open(conf, "w") as f:
            f.write("# heartbeat\n\nPADDOCK_HEARTBEAT_URL=\"%s\"\n  export PADDOCK_HEARTBEAT_STATUS='from-file'  \n"
                    % listener.url("/conf/hb"))
        r = Run(shell, ["--once", "--config", conf], env, workdir)
        check(r.wait(15) == 0 and listener.got("/conf/")[-1][1] == "/conf/hb?status=from-file",
              "%s: URL and status from the config file" % label)
        e = dict(env, PADDOCK_HEARTBEAT_STATUS="from-env")
        r = Run(shell, ["--once", "--config", conf], e, workdir)
        check(r.wait(15) == 0 and listener.got("/conf/")[-1][1] == "/conf/hb?status=from-env",
              "%s: the environment beats the config file" % label)
        r = Run(shell, ["--once", "--config", conf, "--status=from-option"], e, workdir)
        check(r.wait(15) == 0 and listener.got("/conf/")[-1][1] == "/conf/hb?status=from-option",
              "%s: an option beats the environment" % label)
        with open(conf, "w") as f:
            f.write("PADDOCK_HEARTBEAT_URL=%s\nPADDOCK_HEARTBEAT_STATUS=$(touch %s)\n" % (listener.url("/conf/x"), pwned))
        r = Run(shell, ["--once", "--config", conf], env, workdir)
        check(r.wait(15) == 2 and not os.path.exists(pwned), "%s: a config value is not executed" % label)
        with open(conf, "w") as f:
            f.write("PADDOCK_HEARTBEAT_URL=%s\nPADDOCK_HEARTBEAT_URLL=x\n" % listener.url("/conf/x"))
        r = Run(shell, ["--once", "--config", conf], env, workdir)
        check(r.wait(15) == 2 and "PADDOCK_HEARTBEAT_URLL" in r.stderr(), "%s: an unknown config key is refused" % label)

        # No URL anywhere: a message and exit 0 (an unconfigured image boots cleanly).
        rc, err = once([])
        check(rc == 0 and "no heartbeat URL" in err, "%s: no URL: exit 0 with a message (%r)" % (label, rc))
    finally:
        listener.close()


def main():
    if not SCRIPT or not os.path.isfile(SCRIPT):
        print("usage: heartbeat_test.py PATH/TO/paddock-heartbeat", file=sys.stderr)
        return 2
    if "paddock.heartbeat=" in open("/proc/cmdline").read():
        print("this machine's kernel command line has paddock.heartbeat=; the no-URL check cannot run", file=sys.stderr)
        return 2
    dash = shutil.which("dash")
    busybox = shutil.which("busybox")
    has_bb_wget = bool(busybox) and "wget" in subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    wget = shutil.which("wget")
    gnu_wget = bool(wget) and "GNU Wget" in subprocess.run([wget, "--version"], capture_output=True, text=True).stdout
    variants = []
    if not check(bool(dash), "dash is installed"):
        return 1
    if shutil.which("curl"):
        variants.append(("dash+curl", [dash], "curl"))
    if gnu_wget:
        variants.append(("dash+gnu-wget", [dash], "wget"))
    if check(has_bb_wget, "busybox with wget is installed (scripts/setup.sh installs busybox-static)"):
        variants.append(("dash+busybox-wget", [dash], "busybox"))
        variants.append(("busybox-ash+busybox-wget", [busybox, "ash"], "busybox"))
    check(bool(variants), "at least one HTTP client")
    for label, shell, client in variants:
        workdir = tempfile.mkdtemp(prefix="paddock-hb-test.")
        try:
            suite(label, shell, client, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    for f in failures:
        print("  " + f.splitlines()[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
