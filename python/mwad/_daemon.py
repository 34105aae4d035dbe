"""A `mwad run` child process that follows its trainer: started with `--until-pid`
(it stops by itself once the trainer's process is gone, however that ends), woken
after each save (SIGUSR1), told when training finished (SIGUSR2: the final merge and
its evaluation, then exit 0), its log lines passed to a Python logger."""
import logging
import os
import signal
import subprocess
import threading
import time

from ._binary import binary_path
from ._settings import environment
from ._status import StatusError, run_status

log = logging.getLogger("mwad")


class Daemon:
    def __init__(self, run_dir, *, config=None, state_dir=None, settings=None, extra_args=()):
        self.run_dir = os.path.abspath(os.fspath(run_dir))
        self.config = os.path.abspath(os.fspath(config)) if config else None
        self.state_dir = os.path.abspath(os.fspath(state_dir)) if state_dir else None
        self.env = environment(settings or {})
        self.extra_args = list(extra_args)
        self.process = None
        self.returncode = None
        self._reader = None

    def command(self):
        command = [binary_path(), "run", "--watch", self.run_dir, "--until-pid", str(os.getpid())]
        if self.config:
            command += ["--config", self.config]
        if self.state_dir:
            command += ["--state-dir", self.state_dir]
        return command + self.extra_args

    def start(self):
        os.makedirs(self.run_dir, exist_ok=True)
        env = {**os.environ, **self.env}
        # Its own process group: a Ctrl-C at the terminal reaches the trainer, whose exit
        # the daemon sees (--until-pid), and the daemon finishes its merge instead of
        # dying with the trainer mid-write.
        self.process = subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True, errors="replace", start_new_session=True)
        self._reader = threading.Thread(target=self._forward, name="mwad-log", daemon=True)
        self._reader.start()

    def _forward(self):
        for line in self.process.stderr:
            line = line.rstrip("\n")
            if line:
                log.info("%s", line)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def wake(self):
        """Look at the run now (after a save)."""
        if self.running:
            os.kill(self.process.pid, signal.SIGUSR1)

    def finish(self, timeout):
        """Training finished: waits up to `timeout` s for the final merge and its
        evaluation and the daemon's exit, then stops it (SIGTERM, then SIGKILL).
        Returns the exit status."""
        if self.process is None:
            return None
        if self.running:
            os.kill(self.process.pid, signal.SIGUSR2)
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("mwad did not finish its final merge and evaluation within %s s "
                        "(final_timeout): stopping it", timeout)
            self.process.terminate()
            try:
                self.returncode = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.returncode = self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.returncode

    def status_args(self):
        return ["--state-dir", self.state_dir] if self.state_dir else ["--watch", self.run_dir]

    def status(self, all_checkpoints=False):
        return run_status(self.status_args(), all_checkpoints=all_checkpoints)

    def wait_until_read(self, step, timeout):
        """Until the daemon has read the checkpoint of `step` (ingested it, or rejected
        or missed it, with the reason in its status), it exited, or `timeout` s passed.
        Returns whether it was read."""
        deadline = time.monotonic() + timeout
        pause = 0.02
        while self.running:
            try:
                status = self.status()
            except (StatusError, ValueError):
                status = {}
            last = (status.get("last_ingested") or {}).get("step")
            if last is not None and last >= step:
                return True
            if any(row.get("step") == step for key in ("rejected", "missed") for row in status.get(key) or []):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(0.5, pause * 2)
        return False

    def wait_until_ready(self, timeout=30):
        """Until the daemon's ledger answers (it recorded its start), or it exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return None
            try:
                return self.status()
            except (StatusError, ValueError):
                time.sleep(0.1)
        return None
