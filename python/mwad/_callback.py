"""`MwadCallback`: mwad living and dying with a Hugging Face Trainer.

    from mwad import MwadCallback
    trainer = Trainer(..., callbacks=[MwadCallback(window=4)])

On the world's process zero only: `on_train_begin` starts `mwad run --watch
args.output_dir --until-pid <this process>`; `on_save` wakes it (SIGUSR1), so it looks
at the new checkpoint at once, and returns once mwad has read it (at most
`ingest_timeout` s), so that `save_total_limit`'s rotation at the next save never
deletes a checkpoint mwad has not copied, however busy the machine; mwad's merges and evaluations reach every `report_to`
integration as `mwad/...` metrics at the trainer's step; `on_train_end` waits (at most
`final_timeout` s) for the final merge and its evaluation (SIGUSR2), logs the summary
and leaves `merged_path`, `best_path` and `status()`. However the script ends (an
exception, Ctrl-C, SIGKILL), the daemon sees its trainer gone, makes the final merge
and exits: none is left behind.
"""
import copy
import logging
import os
import sys
import threading

from transformers import TrainerCallback
from transformers.trainer_callback import CallbackHandler

from ._daemon import Daemon
from ._report import Reporter
from ._settings import environment
from ._status import StatusError

log = logging.getLogger("mwad")
if not log.handlers and not logging.getLogger().handlers:
    # The trainer's log is its stderr unless the script configured logging itself.
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("mwad: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class MwadCallback(TrainerCallback):
    """Keeps the MWA merge of the run's latest checkpoints while the Trainer trains.

    Args:
        config: a mwad YAML configuration file (every key of config/mwad.yaml); the
            keyword arguments override it.
        state_dir: where mwad keeps its ledger and retained copies (default: mwad's,
            `$XDG_STATE_HOME/mwad/<run>`).
        final_timeout: seconds `on_train_end` waits for the final merge and its
            evaluation (default 600).
        ingest_timeout: seconds `on_save` waits for mwad to read the checkpoint just
            saved (default 30; usually a fraction of a second). Past it, training goes
            on without waiting again, and the log says so.
        poll_interval: seconds between looks at mwad's status for tracker metrics.
        report: whether mwad's scores go to the trainer's `report_to` integrations.
        extra_args: more `mwad run` flags.
        **settings: configuration keys: `window=4`, `method="svd"`, `eval_command=[...]`,
            `best_output="..."`, `output="..."`, or a section as a dict
            (`merge={"window": 4}`).
    """

    def __init__(self, config=None, *, state_dir=None, final_timeout=600.0, ingest_timeout=30.0, poll_interval=2.0,
                 report=True, extra_args=(), **settings):
        self.config = config
        self.state_dir = state_dir
        self.final_timeout = final_timeout
        self.ingest_timeout = ingest_timeout
        self._waits = ingest_timeout > 0
        self.poll_interval = poll_interval
        self.report = report
        self.extra_args = tuple(extra_args)
        self.settings = settings
        environment(settings)  # a misspelt setting fails here, before training
        self.daemon = None
        self.merged_path = None
        self.best_path = None
        self.exit_status = None
        self._final = None
        self._handler = None
        self._reporter = Reporter()
        self._pending = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = None
        self._dispatching = False

    # -- the trainer's events ------------------------------------------------------

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or self.daemon is not None:
            return
        self._handler = self._calling_handler()
        if self._handler is not None:
            # First in line: on_train_end then waits for mwad's final scores before the
            # integrations close their runs. The handler is iterating its list: moving
            # this callback from after the current index to the front keeps every other
            # callback's turn.
            self._handler.callbacks.remove(self)
            self._handler.callbacks.insert(0, self)
        elif self.report:
            log.warning("MwadCallback is not called by a Trainer's CallbackHandler: mwad's scores go to "
                        "the log only, not to the trainer's report_to integrations")
        self.daemon = Daemon(args.output_dir, config=self.config, state_dir=self.state_dir,
                             settings=self.settings, extra_args=self.extra_args)
        self.daemon.start()
        status = self.daemon.wait_until_ready()
        if status is None:
            code = self.daemon.finish(timeout=5)
            raise RuntimeError(f"mwad did not start (exit status {code}); its error is in the lines above")
        run = status.get("run") or {}
        self.merged_path = run.get("output")
        best = self.daemon.env.get("MWAD_EVAL_BEST_OUTPUT")
        log.info("mwad (pid %d) follows %s: the merge of its latest checkpoints is published to %s%s",
                 self.daemon.process.pid, self.daemon.run_dir, self.merged_path,
                 f", the best adapter of each evaluated window to {best}" if best else "")
        self._poller = threading.Thread(target=self._poll, name="mwad-status", daemon=True)
        self._poller.start()

    def on_save(self, args, state, control, **kwargs):
        if self.daemon is not None:
            self.daemon.wake()  # the checkpoint (and the rotation) is complete
            # Held until mwad has read it: the next save's rotation may delete it.
            if self._waits and not self.daemon.wait_until_read(state.global_step, self.ingest_timeout) and self.daemon.running:
                self._waits = False
                log.warning("mwad has not read checkpoint-%d within %s s (ingest_timeout): training goes on without "
                            "waiting for it again, and save_total_limit may rotate checkpoints away before mwad copies them",
                            state.global_step, self.ingest_timeout)
            self._dispatch(args, state, control)

    def on_step_end(self, args, state, control, **kwargs):
        if self.daemon is not None:
            self._dispatch(args, state, control)

    def on_train_end(self, args, state, control, **kwargs):
        if self.daemon is None:
            return
        self._stop.set()
        self.exit_status = self.daemon.finish(timeout=self.final_timeout)
        if self._poller is not None:
            self._poller.join(timeout=30)
        try:
            self._final = self.daemon.status(all_checkpoints=True)
        except (StatusError, ValueError) as error:
            log.warning("mwad status after the run: %s", error)
        if self._final is not None:
            self._collect(self._final)
            self.merged_path = (self._final.get("run") or {}).get("output", self.merged_path)
            self.best_path = (self._final.get("best") or {}).get("output")
            log.info("%s", summary(self._final))
        self._dispatch(args, state, control)
        self.daemon = None

    # -- what callers read ---------------------------------------------------------

    def status(self):
        """mwad's status (`mwad status --json`) as a dict: the daemon's now while it
        runs, the final one after training."""
        if self.daemon is not None:
            return self.daemon.status()
        if self._final is None:
            raise StatusError("mwad has not run yet: status() answers once training began")
        return self._final

    # -- reporting -----------------------------------------------------------------

    def _poll(self):
        while not self._stop.wait(self.poll_interval):
            try:
                self._collect(self.daemon.status(all_checkpoints=True))
            except Exception as error:  # a status read failing must never stop training
                log.debug("mwad status: %s", error)

    def _collect(self, status):
        metrics = self._reporter.new_metrics(status)
        with self._lock:
            self._pending.extend(metrics)

    def _dispatch(self, args, state, control):
        """Logs what was collected through the trainer's own on_log, at its current
        step, with a copy of its control (so the trainer's own logging is unchanged)."""
        with self._lock:
            pending, self._pending = self._pending, []
        for metrics in pending:
            log.info("%s", " ".join(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}"
                                    for key, value in metrics.items()))
            if self._handler is None or not self.report:
                continue
            self._dispatching = True
            try:
                self._handler.on_log(args, state, copy.copy(control), logs=dict(metrics))
            finally:
                self._dispatching = False

    @staticmethod
    def _calling_handler():
        """The Trainer's CallbackHandler, which is calling this callback now."""
        frame = sys._getframe(1)
        for _ in range(8):
            if frame is None:
                return None
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, CallbackHandler):
                return candidate
            frame = frame.f_back
        return None


def summary(status):
    """Two or three lines for the trainer's log: what mwad saw and merged, and how the
    evaluation went."""
    counts = status.get("counts", {})
    lines = [f"mwad saw {counts.get('ingested_total', 0)} checkpoints "
             f"({counts.get('rejected', 0)} rejected, {counts.get('missed', 0)} missed)"]
    merge = status.get("merge")
    if merge:
        steps = sorted(member["step"] for member in merge.get("members", []))
        span = f"steps {steps[0]}–{steps[-1]}" if steps else "no members"
        lines.append(f"the merge of {len(steps)} checkpoints ({span}, {merge.get('method')}, "
                     f"{merge.get('weighting')}) is in {merge.get('output')}")
    else:
        lines.append("no merge was published")
    summary_ = status.get("evaluation_summary")
    if summary_:
        delta = summary_.get("mean_delta_percent")
        lines.append(f"the merge beat the newest checkpoint in {summary_.get('merge_better')} of "
                     f"{summary_.get('windows')} evaluated windows"
                     + (f", mean Δ {delta:+.2f} %" if delta is not None else ""))
    best = status.get("best")
    if best:
        lines.append(f"the best adapter ({best.get('what')}, step {best.get('step')}) is in {best.get('output')}")
    daemon = status.get("daemon", {})
    if daemon.get("stop_reason"):
        lines.append(f"mwad stopped: {daemon['stop_reason']}")
    return "\n".join(lines)
