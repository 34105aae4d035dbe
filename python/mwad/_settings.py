"""The callback's keyword arguments as mwad's configuration keys (`MWAD_*` variables).

mwad reads a setting from its flags, then `MWAD_<SECTION>_<KEY>` environment
variables, then its YAML file: the callback passes keyword arguments as variables over
the `config` file, checked here against the keys of config/mwad.yaml (a test keeps the
two equal), so that a misspelt keyword is an error, never a silently ignored setting.
"""

SECTIONS = {
    "watch": ("directory", "mode", "poll_interval", "reconcile_interval", "settle_time", "debounce", "layout"),
    "merge": ("method", "rank", "weighting", "half_life", "penalty", "shape", "ratio", "window", "window_steps",
              "stride", "metric", "smoothing", "max_rank", "recompute_every", "running_sum"),
    "hook": ("on_merge", "timeout"),
    "log": ("level",),
    "metrics": ("textfile", "tag", "logdir"),
    "tensorboard": ("logdir",),
    "eval": ("command", "metric", "goal", "timeout", "nice", "mode", "min_members", "stale_after", "keep_newest", "retain",
             "best_output", "candidates"),
    "serve": ("url", "name", "dir", "keep", "publish", "token_file", "max_rank", "timeout", "check_every"),
}
TOP_LEVEL = ("output", "publish", "ledger", "state_directory", "heartbeat_interval")
# Set by the callback itself: the run is the trainer's output_dir.
OWNED = {"watch.directory"}


def key_of(name):
    """The dotted config key a keyword names: `window` (a merge key), `eval_command`
    (section_key), `best_output` (an eval key), `output` (top level)."""
    if name in TOP_LEVEL:
        return name
    for section, keys in SECTIONS.items():
        prefix = section + "_"
        if name.startswith(prefix) and name[len(prefix):] in keys:
            return f"{section}.{name[len(prefix):]}"
    for section in ("merge", "eval"):  # the settings people give most, without their section
        if name in SECTIONS[section]:
            return f"{section}.{name}"
    raise TypeError(f"MwadCallback got an unknown setting {name!r}: give a key of config/mwad.yaml as "
                    "section_key=value (eval_timeout=600), a merge or eval key alone (window=4, "
                    "best_output='...'), or a section as a dict (merge={'window': 4})")


def flatten(settings):
    """{dotted key: value} from keyword arguments; sections may be dicts."""
    flat = {}
    for name, value in settings.items():
        if name in SECTIONS and isinstance(value, dict):
            for key, inner in value.items():
                if key not in SECTIONS[name]:
                    raise TypeError(f"MwadCallback: {name}.{key} is not a key of mwad's configuration; "
                                    f"{name} has {', '.join(SECTIONS[name])}")
                flat[f"{name}.{key}"] = inner
        else:
            flat[key_of(name)] = value
    for key in flat:
        if key in OWNED:
            raise TypeError(f"MwadCallback: {key} is the trainer's output_dir, set by the callback")
    return flat


def text(key, value):
    """A value as mwad reads it from its environment: lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
        if any("," in item for item in items):
            raise ValueError(f"MwadCallback: {key}: an item holds a comma, which separates items; "
                             "give this key in the YAML file instead (config=...)")
        return ",".join(items)
    return str(value)


def environment(settings):
    """The `MWAD_*` variables for keyword arguments; None values are left out."""
    return {"MWAD_" + key.replace(".", "_").upper(): text(key, value)
            for key, value in flatten(settings).items() if value is not None}
