#!/usr/bin/env python3
"""Checks that every system call mwad makes is allowed by the unit's filter.

Traces a real `mwad run` (start-up, inotify, a merge, an on_merge hook, SIGTERM)
with strace and compares the calls made with what systemd allows for
SystemCallFilter=@system-service minus ~@privileged, as systemd-analyze expands
them on this machine.

Usage: scripts/check-syscalls.py MWAD_BINARY FIXTURE_RUN
"""
import os, re, shutil, subprocess, sys, tempfile, time


def expand(group, seen=None):
    seen = seen if seen is not None else set()
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if item.startswith("@"):
            if item not in seen:
                seen.add(item)
                calls |= expand(item, seen)
        else:
            calls.add(item)
    return calls


def trace(binary, fixture, work):
    run = os.path.join(work, "run")
    os.makedirs(run)
    hook = os.path.join(work, "hook.sh")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\necho merged \"$MWAD_STEP\" > /dev/null\n")
    os.chmod(hook, 0o755)
    env = dict(os.environ, MWAD_HOOK_ON_MERGE=hook, XDG_STATE_HOME=os.path.join(work, "state"))
    log = os.path.join(work, "strace.log")
    # As the unit runs it: an unprivileged user (as root, SQLite also fchowns its
    # journal files to the database's owner, which the unprivileged service never does).
    as_user = []
    if os.geteuid() == 0:
        os.chmod(work, 0o755)
        subprocess.run(["chown", "-R", "65534:65534", work], check=True)
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    daemon = subprocess.Popen(as_user + ["strace", "-f", "-qq", "-o", log, binary, "run", "--watch", run,
                               "--out", os.path.join(work, "merged")], env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    for name in sorted(os.listdir(fixture))[:3]:  # checkpoints arriving while it watches
        shutil.copytree(os.path.join(fixture, name), os.path.join(run, name))
        time.sleep(1)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "65534:65534", run], check=True)
    time.sleep(2)
    # SIGTERM to mwad itself, strace's child (strace would only detach).
    subprocess.run(["pkill", "-TERM", "-P", str(daemon.pid)], check=False)
    _, err = daemon.communicate(timeout=60)
    if daemon.returncode != 0 or "published merge" not in err:
        sys.exit(f"mwad did not run as expected (exit {daemon.returncode}):\n{err}")
    used = set()
    with open(log) as f:
        for line in f:
            m = re.match(r"^\d+\s+(\w+)\(", line)
            if m:
                used.add(m.group(1))
    return used


def main():
    binary, fixture = sys.argv[1], sys.argv[2]
    allowed = expand("@system-service") - expand("@privileged")
    with tempfile.TemporaryDirectory() as work:
        used = trace(os.path.abspath(binary), os.path.abspath(fixture), work)
    denied = sorted(used - allowed)
    print(f"mwad made {len(used)} distinct system calls; allowed by @system-service ~@privileged: {len(used) - len(denied)}")
    for call in ("inotify_init1", "inotify_add_watch", "renameat2", "statfs", "sendto"):
        print(f"  {call}: {'used, allowed' if call in used and call in allowed else 'used, DENIED' if call in used else 'not used'}")
    if denied:
        sys.exit("denied by the unit's SystemCallFilter: " + ", ".join(denied))


if __name__ == "__main__":
    main()
