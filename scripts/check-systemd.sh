#!/usr/bin/env bash
# Installs the .deb into a real systemd (systemd-nspawn, see scripts/nspawn.sh) with
# apt-get, as an operator would, and checks the units end to end, printing the
# evidence of each: Type=notify reaches active (running); STATUS=; journal lines with
# their levels; the fixture replayed in the trainer's write order (with rotation) is
# merged into /srv/mwad/NAME/merged; `mwad status` as root, nobody and mwad; the
# textfile scraped by node_exporter; the watchdog holds; a clean stop; SIGKILL →
# restart; a config typo → 78, not restarted; SystemCallErrorNumber=kill → no SIGSYS;
# the user unit under a lingering user's systemctl --user; an upgrade while instances
# run keeps the ledger and the merge; purge removes what postrm says. Needs root.
# Usage: scripts/check-systemd.sh DEB
set -euo pipefail
deb=$(realpath "${1:?usage: check-systemd.sh DEB}")
cd "$(dirname "$0")/.."
repo=$(pwd)
source scripts/nspawn.sh
source scripts/systemd-checks.sh
source scripts/systemd-lifecycle.sh
started=$SECONDS
trap nspawn_teardown EXIT

nspawn_boot "$(mktemp -d /tmp/mwad-nspawn.XXXXXX)" --bind-ro="$repo:/mnt/mwad" --bind-ro="$(dirname "$deb"):/mnt/dist"
fixture=/mnt/mwad/Tests/Fixtures/trainer-run-f32
# Build machines and container images often carry a policy-rc.d that forbids starting
# services (exit 101), which deb-systemd-invoke obeys; a machine mwad is installed on
# has none. Removed in the container's own layer only.
in_container rm -f /usr/sbin/policy-rc.d

step "install the package with apt-get"
in_container env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "/mnt/dist/$(basename "$deb")" | tail -3
in_container dpkg -s mwad | grep -E '^(Version|Depends):'
in_container id mwad
in_container mwad --version

step "mwad@ci: Type=notify reaches active (running), with STATUS="
make_instance ci /srv/runs/ci
in_container systemctl enable --now mwad@ci
expect_property mwad@ci ActiveState active
expect_property mwad@ci SubState running
show mwad@ci StatusText

step "the fixture replayed in the trainer's write order, save_total_limit 2"
replay "$fixture" /srv/runs/ci 2
wait_for "the merge of step 80" 120 merged_through ci 80
in_container ls -l /srv/mwad/ci/merged
show mwad@ci StatusText
counts ci 8

step "journal lines, with their syslog levels"
in_container journalctl -u mwad@ci -o short-precise --no-pager | tail -6
priorities mwad@ci

step "mwad status as root, nobody and mwad"
for user in root nobody mwad; do
    echo "-- as $user:"
    as "$user" mwad status --watch /srv/runs/ci | head -4
done

step "the metrics textfile, scraped by node_exporter"
scrape /srv/mwad/ci

step "the watchdog holds (WatchdogSec=2s drop-in, 12 s)"
drop_in mwad@ci watchdog "[Service]
WatchdogSec=2s"
in_container systemctl restart mwad@ci
sleep 12
expect_property mwad@ci ActiveState active
expect_property mwad@ci NRestarts 0
show mwad@ci WatchdogUSec
in_container rm -r /etc/systemd/system/mwad@ci.service.d
in_container systemctl daemon-reload

step "a clean stop"
t0=$(date +%s.%N)
in_container systemctl stop mwad@ci
echo "stopped in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
expect_property mwad@ci Result success
expect_property mwad@ci ExecMainStatus 0
in_container systemctl start mwad@ci

step "SIGKILL: restarted after RestartSec=5s"
before=$(property mwad@ci MainPID)
in_container systemctl kill -s KILL mwad@ci
wait_for "a restart" 30 restarted mwad@ci "$before"
expect_property mwad@ci ActiveState active
show mwad@ci NRestarts

step "a typo in the configuration: exit 78, not restarted"
make_instance typo /srv/runs/typo "merge:
  windwo: 3"
in_container systemctl start mwad@typo || true
sleep 7
expect_property mwad@typo ExecMainStatus 78
expect_property mwad@typo ActiveState failed
expect_property mwad@typo NRestarts 0
in_container journalctl -u mwad@typo -o cat --no-pager | grep -m2 -i 'windwo'

step "SystemCallErrorNumber=kill: no SIGSYS through start, ingest, merge and stop"
make_instance sys /srv/runs/sys
drop_in mwad@sys kill "[Service]
SystemCallErrorNumber=kill"
in_container systemctl start mwad@sys
replay "$fixture" /srv/runs/sys 2
wait_for "the merge of step 80" 120 merged_through sys 80
in_container systemctl stop mwad@sys
expect_property mwad@sys Result success
expect_property mwad@sys NRestarts 0

step "the user unit, under a lingering user's systemctl --user"
user_unit alice "$fixture"

step "an upgrade to a rebuilt package while instances run keeps the ledger and the merge"
upgrade "$deb" ci alice

step "purge removes what postrm says"
purge ci alice

step "done in $((SECONDS - started)) s"
