# shellcheck shell=bash
# Sourced by scripts/check-systemd.sh: the checks' building blocks, each run inside the
# container booted by scripts/nspawn.sh. A failed expectation prints what was found
# and exits non-zero (the caller's EXIT trap tears the container down).

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

property() { in_container systemctl show -p "$2" --value "$1"; }
show() { echo "$1 $2=$(property "$1" "$2")"; }
expect_property() {
    local found
    found=$(property "$1" "$2")
    [[ $found == "$3" ]] || { in_container systemctl status --no-pager "$1" | tail -15 >&2; fail "$1 $2=$found, expected $3"; }
    echo "$1 $2=$found"
}

# wait_for WHAT SECONDS COMMAND…: polls COMMAND every 0.2 s.
wait_for() {
    local what=$1 limit=$2 _
    shift 2
    for _ in $(seq $((limit * 5))); do "$@" >/dev/null 2>&1 && { echo "reached: $what"; return 0; }; sleep 0.2; done
    "$@" || true
    fail "no $what within $limit s"
}

# make_instance NAME RUN_DIR [YAML]: the layout systemd/mwad@.service expects.
make_instance() {
    in_container install -d -m 755 "$2"
    in_container install -d -o mwad -g mwad "/srv/mwad/$1"
    printf 'watch:\n  directory: %s\n  debounce: 0.2\noutput: /srv/mwad/%s/merged\nmetrics:\n  textfile: /srv/mwad/%s/mwad.prom\n%s\n' \
        "$2" "$1" "$1" "${3:-}" | in_container tee "/etc/mwad/$1.yaml" >/dev/null
}

drop_in() {
    in_container mkdir -p "/etc/systemd/system/$1.service.d"
    printf '%s\n' "$3" | in_container tee "/etc/systemd/system/$1.service.d/$2.conf" >/dev/null
    in_container systemctl daemon-reload
}

# replay SOURCE RUN_DIR LIMIT [USER]: each checkpoint in step order, its files in the
# order Hugging Face Trainer writes them (trainer_state.json last), then the rotation
# save_total_limit makes right after a save. No pause: the daemon keeps up or counts
# what it missed.
replay() {
    # shellcheck disable=SC2016  # the script runs inside, with its own arguments
    in_container runuser -u "${4:-root}" -- bash -c '
        set -e
        source=$1 run=$2 limit=$3
        for folder in $(ls "$source" | grep "^checkpoint-" | sort -t- -k2 -n); do
            mkdir "$run/$folder"
            for file in adapter_model.safetensors adapter_config.json README.md training_args.bin \
                        optimizer.pt scheduler.pt rng_state.pth trainer_state.json; do
                [ -e "$source/$folder/$file" ] && install -m 644 "$source/$folder/$file" "$run/$folder/$file"
            done
            ls "$run" | grep "^checkpoint-" | sort -t- -k2 -n | head -n -"$limit" | while read -r old; do rm -r "$run/$old"; done
        done' replay "$@"
    echo "replayed $(in_container ls "$1" | grep -c '^checkpoint-') checkpoints into $2 (kept: $(in_container ls "$2" | tr '\n' ' '))"
}

# status_json NAME [USER]: the run's status, as USER.
status_json() { as "${2:-root}" mwad status --watch "$(run_dir "$1" "${2:-root}")" --json; }
# as USER CMD…: CMD as USER with USER's home and runtime directory (so `systemctl --user`
# and the default state directory are USER's).
as() {
    local user=$1
    shift
    [[ $user == root ]] && { in_container "$@"; return; }
    local uid home
    uid=$(in_container id -u "$user")
    home=$(in_container getent passwd "$user" | cut -d: -f6)
    in_container runuser -u "$user" -- env "HOME=$home" "XDG_RUNTIME_DIR=/run/user/$uid" \
        "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus" "$@"
}
run_dir() { if [[ $2 == root ]]; then echo "/srv/runs/$1"; else echo "/home/$2/runs/$1"; fi; }

merged_through() {
    status_json "$1" "${3:-root}" | python3 -c '
import json, sys
merge = json.load(sys.stdin).get("merge") or {}
sys.exit(0 if max((m["step"] for m in merge.get("members", [])), default=0) == int(sys.argv[1]) else 1)' "$2"
}

# counts NAME TOTAL [USER]: every checkpoint of the replay was ingested (and is in the
# window, or was evicted from it) or missed; none absent, none rejected.
counts() {
    status_json "$1" "${3:-root}" | python3 -c '
import json, sys
counts = json.load(sys.stdin)["counts"]
print("counts:", counts)
seen = sum(counts.get(key, 0) for key in ("ingested", "evicted", "missed"))
sys.exit(0 if seen == int(sys.argv[1]) and counts.get("rejected", 0) == 0 else 1)' "$2" || fail "not every checkpoint is ingested or missed"
}

priorities() {
    in_container journalctl -u "$1" -o json --no-pager | python3 -c '
import collections, json, sys
names = {"2": "crit", "3": "err", "4": "warning", "5": "notice", "6": "info", "7": "debug"}
entries = [entry for entry in map(json.loads, sys.stdin) if entry.get("_COMM") == "mwad"]
seen = collections.Counter(names.get(entry.get("PRIORITY"), "?") for entry in entries)
print("mwad journal lines by level:", dict(seen))
for entry in entries:
    if int(entry.get("PRIORITY", 6)) <= 5:
        print(" ", names[entry["PRIORITY"]], entry.get("MESSAGE"))
# A clean replay has no error, and the unprivileged start no notice from libdispatch.
loud = [entry for entry in entries if int(entry.get("PRIORITY", 6)) <= 3
        or (int(entry.get("PRIORITY", 6)) <= 5 and "thread priority" in entry.get("MESSAGE", ""))]
sys.exit(0 if seen["info"] > 0 and not loud else 1)' || fail "no info lines from mwad in the journal, or an error, or the thread-priority line at notice"
}

restarted() { [[ $(property "$1" MainPID) != 0 && $(property "$1" MainPID) != "$2" && $(property "$1" ActiveState) == active ]]; }
