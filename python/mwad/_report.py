"""What mwad did, as tracker metrics: each merge seen and each evaluated window, from
successive `mwad status --json --all` objects. Keys start with `mwad/`; the window's
newest step is a value, since trackers drop points logged at an earlier step."""


def merge_metrics(merge):
    """A merge's members and weights: weight_0 is the newest member's, weight_1 the one
    before it, and so on."""
    members = sorted(merge.get("members", []), key=lambda member: member["step"], reverse=True)
    metrics = {
        "mwad/merge/id": merge["id"],
        "mwad/merge/members": len(members),
        "mwad/merge/window_step": members[0]["step"] if members else 0,
        "mwad/merge/oldest_step": members[-1]["step"] if members else 0,
    }
    for position, member in enumerate(members):
        metrics[f"mwad/merge/weight_{position}"] = member["weight"]
    return metrics


def window_metrics(evaluations, best):
    """An evaluated window's scores: the merge's, the newest checkpoint's, their
    difference in percent, the best adapter's so far, and the window's step. None until
    both the merge and the checkpoint have a score."""
    merge = next((e for e in evaluations if e["target"] == "merge" and e.get("value") is not None), None)
    newest = next((e for e in evaluations if e["target"] == "checkpoint" and e.get("value") is not None), None)
    if merge is None or newest is None:
        return None
    metrics = {
        "mwad/eval/window_step": merge["step"],
        "mwad/eval/merge": merge["value"],
        "mwad/eval/newest_checkpoint": newest["value"],
    }
    if merge.get("vs_checkpoint_percent") is not None:
        metrics["mwad/eval/merge_vs_newest_percent"] = merge["vs_checkpoint_percent"]
    candidates = [e["value"] for e in evaluations if e["target"] == "candidate" and e.get("value") is not None]
    if candidates:
        goal = merge.get("goal", "minimize")
        metrics["mwad/eval/best_candidate"] = min(candidates) if goal == "minimize" else max(candidates)
    if best and best.get("value") is not None:
        metrics["mwad/eval/best"] = best["value"]
        metrics["mwad/eval/best_step"] = best.get("step", 0)
    return metrics


class Reporter:
    """Remembers what was reported; `new_metrics(status)` returns the metric dicts not
    yet reported, oldest first."""

    def __init__(self):
        self.merge_id = None
        self.windows = set()

    def new_metrics(self, status):
        out = []
        merge = status.get("merge")
        if merge and merge.get("id") != self.merge_id:
            self.merge_id = merge.get("id")
            out.append(merge_metrics(merge))
        by_window = {}
        for evaluation in status.get("evaluations", []):
            by_window.setdefault(evaluation["merge_id"], []).append(evaluation)
        for merge_id in sorted(by_window):
            if merge_id in self.windows:
                continue
            metrics = window_metrics(by_window[merge_id], status.get("best"))
            if metrics is not None:
                self.windows.add(merge_id)
                out.append(metrics)
        return out
