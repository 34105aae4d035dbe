# shellcheck shell=bash
# Sourced by scripts/check-systemd.sh: the checks that span the package's life (a
# scrape, the user unit, an upgrade, purge), on the container of scripts/nspawn.sh.

# scrape DIR: a real node_exporter serves the textfile mwad writes in DIR.
scrape() {
    if ! in_container test -x /usr/bin/prometheus-node-exporter; then
        echo "skipped the scrape: prometheus-node-exporter is not installed on this machine"
        return 0
    fi
    in_container systemd-run --quiet --unit=mwad-scrape /usr/bin/prometheus-node-exporter --collector.disable-defaults \
        --collector.textfile --collector.textfile.directory="$1" --web.listen-address=127.0.0.1:9109
    wait_for "node_exporter listening" 30 in_container curl -sf -o /dev/null http://127.0.0.1:9109/metrics
    local page
    page=$(in_container curl -sf http://127.0.0.1:9109/metrics)
    grep '^mwad_' <<<"$page" | head -5
    grep -q '^node_textfile_scrape_error 0' <<<"$page" || fail "node_exporter could not read the textfile"
    grep -q '^mwad_' <<<"$page" || fail "no mwad_ metric in the scrape"
    in_container systemctl stop mwad-scrape
}

# user_unit USER FIXTURE: mwad@u as USER's own service, with no root involved past
# useradd and loginctl enable-linger (which an administrator grants once).
user_unit() {
    local user=$1 uid home
    in_container useradd -m -s /bin/bash "$user"
    in_container loginctl enable-linger "$user"
    uid=$(in_container id -u "$user")
    home=/home/$user
    wait_for "$user's user manager (linger)" 30 in_container systemctl is-active "user@$uid.service"
    USER_NAME=$user
    as "$USER_NAME" mkdir -p "$home/.config/mwad" "$home/runs/u"
    printf 'watch:\n  directory: %s/runs/u\n  debounce: 0.2\noutput: %s/mwa/u/merged\n' "$home" "$home" \
        | as "$USER_NAME" tee "$home/.config/mwad/u.yaml" >/dev/null
    as "$USER_NAME" systemctl --user enable --now mwad@u
    echo "$user: mwad@u $(as "$USER_NAME" systemctl --user show -p ActiveState,SubState,StatusText mwad@u | tr '\n' ' ')"
    [[ $(as "$USER_NAME" systemctl --user show -p SubState --value mwad@u) == running ]] || fail "the user unit is not running"
    replay "$2" "$home/runs/u" 2 "$user"
    wait_for "$user's merge of step 80" 120 merged_through u 80 "$user"
    as "$USER_NAME" mwad status --watch "$home/runs/u" | head -4
    in_container ls "$home/.local/state/mwad/u" "$home/mwa/u/merged"
    in_container journalctl "_SYSTEMD_USER_UNIT=mwad@u.service" -o cat --no-pager | tail -3
}

user_property() { as "$USER_NAME" systemctl --user show -p "$2" --value "$1"; }

# upgrade DEB NAME USER: the same package rebuilt with a higher version, installed
# while mwad@NAME and USER's mwad@u run: both restart on the new binary, the ledger
# and the published merge stay.
upgrade() {
    local deb=$1 name=$2 rebuilt=$NSPAWN_DIR/root/root/rebuilt pid user_pid before after
    mkdir -p "$rebuilt"
    dpkg-deb -R "$deb" "$rebuilt/tree"
    sed -i 's/^Version: \(.*\)$/Version: \1+rebuild1/' "$rebuilt/tree/DEBIAN/control"
    dpkg-deb --root-owner-group --build "$rebuilt/tree" "$rebuilt/mwad-rebuilt.deb" >/dev/null
    pid=$(property "mwad@$name" MainPID)
    user_pid=$(user_property mwad@u MainPID)
    before=$(status_json "$name" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["merge"]["id"], d["merge"]["output_sha256"], d["counts"]["ingested"])')
    in_container env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/rebuilt/mwad-rebuilt.deb | tail -2
    in_container dpkg -s mwad | grep '^Version:'
    wait_for "mwad@$name restarted" 30 restarted "mwad@$name" "$pid"
    wait_for "$3's mwad@u restarted" 30 user_restarted "$user_pid"
    after=$(status_json "$name" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["merge"]["id"], d["merge"]["output_sha256"], d["counts"]["ingested"])')
    echo "merge id, output sha256, ingested before: $before; after: $after"
    [[ $before == "$after" ]] || fail "the upgrade changed the ledger or the merge"
    in_container test -f "/srv/mwad/$name/merged/adapter_model.safetensors" || fail "the merge is gone after the upgrade"
}

user_restarted() { local now; now=$(user_property mwad@u MainPID); [[ $now != 0 && $now != "$1" ]]; }

# purge NAME USER: postrm's promise, file by file.
purge() {
    in_container env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq mwad | tail -2
    local path
    for path in /usr/bin/mwad /var/lib/mwad /etc/mwad/example.yaml /lib/systemd/system/mwad@.service \
                /usr/lib/systemd/user/mwad@.service "/etc/systemd/system/multi-user.target.wants/mwad@$1.service"; do
        in_container test ! -e "$path" || fail "purge left $path"
        echo "removed: $path"
    done
    for path in "/etc/mwad/$1.yaml" "/srv/mwad/$1/merged/adapter_model.safetensors" "/home/$2/.local/state/mwad/u/ledger.sqlite"; do
        in_container test -e "$path" || fail "purge removed $path, which postrm says it keeps"
        echo "kept: $path"
    done
    in_container id mwad >/dev/null && echo "kept: the system user mwad"
    [[ $(property "mwad@$1" ActiveState) != active ]] || fail "mwad@$1 still runs after purge"
    [[ $(user_property mwad@u ActiveState) != active ]] || fail "$2's mwad@u still runs after purge"
    echo "no instance runs"
}
