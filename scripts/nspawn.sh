# shellcheck shell=bash
# Sourced by scripts/check-systemd.sh: boots a real systemd as PID 1 of systemd-nspawn,
# with no systemd needed on the host. The container's root is an overlay: its lower
# layer a non-recursive bind mount of the host's `/` (so the host's packages, systemd
# and libraries are there, read-only), its upper layer a tmpfs (everything written
# inside vanishes at teardown), with a fresh /etc/machine-id. --register=no and
# --keep-unit because no systemd-machined runs on the host; --private-network so that
# nothing in it can reach out (loopback only). Needs root.
#   nspawn_boot DIR [nspawn options…]   boots, sets $NSPAWN_PID (the container's PID 1)
#   in_container CMD…                   runs CMD inside (all namespaces)
#   nspawn_teardown                     powers off, waits, unmounts; safe to call twice

nspawn_boot() {
    NSPAWN_DIR=$1
    shift
    mkdir -p "$NSPAWN_DIR"/{lower,layer,root}
    mount --bind / "$NSPAWN_DIR/lower"
    mount -t tmpfs -o mode=755 tmpfs "$NSPAWN_DIR/layer"
    mkdir "$NSPAWN_DIR/layer/upper" "$NSPAWN_DIR/layer/work"
    mount -t overlay overlay \
        -o "lowerdir=$NSPAWN_DIR/lower,upperdir=$NSPAWN_DIR/layer/upper,workdir=$NSPAWN_DIR/layer/work" "$NSPAWN_DIR/root"
    rm -f "$NSPAWN_DIR/root/etc/machine-id"
    systemd-id128 new > "$NSPAWN_DIR/root/etc/machine-id"
    # Services the host has installed but a check does not want running inside.
    for unit in prometheus.service podman-restart.service podman-auto-update.service; do
        ln -sf /dev/null "$NSPAWN_DIR/root/etc/systemd/system/$unit"
    done
    systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$NSPAWN_DIR/root" "$@" -b \
        > "$NSPAWN_DIR/console.log" 2>&1 &
    NSPAWN_MAIN=$!
    # nspawn forks a short-lived helper first; PID 1 inside is the child whose NSpid
    # ends in 1 once it runs systemd.
    NSPAWN_PID=
    local _
    for _ in $(seq 200); do
        for child in $(pgrep -P "$NSPAWN_MAIN" || true); do
            if awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$child/status" 2>/dev/null \
                && [[ $(cat "/proc/$child/comm" 2>/dev/null) == systemd ]]; then NSPAWN_PID=$child; fi
        done
        [[ -n $NSPAWN_PID ]] && break
        kill -0 "$NSPAWN_MAIN" 2>/dev/null || break
        sleep 0.05
    done
    [[ -n $NSPAWN_PID ]] || { cat "$NSPAWN_DIR/console.log" >&2; echo "systemd-nspawn did not start systemd" >&2; return 1; }
    local state=
    for _ in $(seq 200); do
        # Until its bus is up, systemctl cannot ask; then it waits for the boot to finish.
        state=$(in_container timeout 60 systemctl is-system-running --wait 2>/dev/null) || true
        [[ -n $state ]] && break
        sleep 0.05
    done
    echo "booted systemd $(in_container systemctl --version | head -1 | cut -d' ' -f2) as PID 1 (host PID $NSPAWN_PID): $state"
    if [[ $state != running ]]; then in_container systemctl --failed --no-legend --plain; fi
}

in_container() { nsenter -t "$NSPAWN_PID" -a "$@"; }

nspawn_teardown() {
    [[ -n ${NSPAWN_DIR:-} ]] || return 0
    if [[ -n ${NSPAWN_MAIN:-} ]] && kill -0 "$NSPAWN_MAIN" 2>/dev/null; then
        in_container systemctl poweroff 2>/dev/null || kill "$NSPAWN_MAIN" 2>/dev/null || true
        local _
        for _ in $(seq 300); do kill -0 "$NSPAWN_MAIN" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$NSPAWN_MAIN" 2>/dev/null || true
        wait "$NSPAWN_MAIN" 2>/dev/null || true
    fi
    for mountpoint in root layer lower; do
        umount "$NSPAWN_DIR/$mountpoint" 2>/dev/null || umount -l "$NSPAWN_DIR/$mountpoint" 2>/dev/null || true
    done
    # Never rm -r here: were an unmount to fail, the lower layer would be the host's /.
    rm -f "$NSPAWN_DIR/console.log" "$NSPAWN_DIR/.#root.lck"
    rmdir "$NSPAWN_DIR"/{root,layer,lower} "$NSPAWN_DIR" 2>/dev/null || echo "left mounted: $NSPAWN_DIR" >&2
    NSPAWN_DIR=
}
