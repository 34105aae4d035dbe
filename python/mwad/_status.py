"""`mwad.status(...)`: the `mwad status --json` object, for notebooks and scripts."""
import json
import os
import subprocess

from ._binary import binary_path


class StatusError(RuntimeError):
    """`mwad status` failed; the message is its own error line."""


def source_args(where):
    """The `mwad status` flags that find the ledger of `where`: a ledger file
    (`*.sqlite`), a state directory (holding `ledger.sqlite`) or a run directory."""
    where = os.path.abspath(os.fspath(where))
    if os.path.isfile(where):
        return ["--ledger", where]
    if os.path.isfile(os.path.join(where, "ledger.sqlite")):
        return ["--state-dir", where]
    return ["--watch", where]


def status(run_dir_or_ledger, *, all_checkpoints=False, timeout=60):
    """The status of the run mwad follows in `run_dir_or_ledger` (the trainer's output
    directory, mwad's state directory or its ledger file), as the dict `mwad status
    --json` prints (see REFERENCE.md). Raises StatusError with mwad's own message when
    there is no ledger for it."""
    return run_status(source_args(run_dir_or_ledger), all_checkpoints=all_checkpoints, timeout=timeout)


def run_status(args, *, all_checkpoints=False, timeout=60):
    command = [binary_path(), "status", "--json", *args] + (["--all"] if all_checkpoints else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        raise StatusError(message[-1] if message else f"mwad status exited {done.returncode}")
    return json.loads(done.stdout)
