#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer and AddressSanitizer:
#   scripts/fuzz.sh TARGET SECONDS      TARGET: safetensors, trainer-state, sidecar, config, event-file, disk-log, flat-file, all
# The committed seeds in Fuzz/Corpus/TARGET are read, never written; inputs the fuzzer
# finds interesting go to Fuzz/.build/corpus/TARGET, crashes to Fuzz/.build/findings/TARGET
# (turn each into a regression test, then fix it). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 safetensors|trainer-state|sidecar|config|event-file|disk-log|flat-file|all SECONDS" >&2; exit 2; }
[[ $# -eq 2 && $2 =~ ^[0-9]+$ ]] || usage

product() {
    case $1 in
        safetensors) echo FuzzSafeTensors ;;
        trainer-state) echo FuzzTrainerState ;;
        sidecar) echo FuzzSidecar ;;
        config) echo FuzzConfig ;;
        event-file) echo FuzzEventFile ;;
        disk-log) echo FuzzDiskLog ;;
        flat-file) echo FuzzFlatFile ;;
        *) usage ;;
    esac
}

targets=("$1")
[[ $1 == all ]] && targets=(safetensors trainer-state sidecar config event-file disk-log flat-file)
for target in "${targets[@]}"; do product "$target" >/dev/null; done

echo "== building the fuzz targets (release, -sanitize=fuzzer,address)"
mkdir -p Fuzz/.build
# SwiftPM's --sanitize fuzzer instruments only the C targets for coverage: Swift code
# needs its own -sanitize-coverage, or libFuzzer mutates blind ("no interesting
# inputs were found"; seen on Swift 6.3). trace-cmp lets it solve comparisons.
flags=(--package-path Fuzz -c release --sanitize fuzzer --sanitize address
       -Xswiftc "-sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp")
build() { swift build "${flags[@]}" >Fuzz/.build/build.log 2>&1; }
# An incremental build sometimes misses a file just added to the main package (a
# SwiftPM planning quirk seen with path dependencies): then the build plan is
# dropped so that the second try plans afresh.
replan() { rm -f Fuzz/.build/release.yaml Fuzz/.build/*/release/description.json; }
if ! build && ! { replan && build; }; then
    grep -vE "^\[[0-9]+/[0-9]+\]|Cannot export local symbol" Fuzz/.build/build.log >&2
    exit 1
fi
bin=$(swift build "${flags[@]}" --show-bin-path)

for target in "${targets[@]}"; do
    work=Fuzz/.build/corpus/$target
    findings=Fuzz/.build/findings/$target
    mkdir -p "$work" "$findings"
    echo "== fuzzing $target for $2 s"
    # Swift's runtime keeps metadata caches for the life of the process, which
    # LeakSanitizer reports as leaks at exit; memory errors are what is looked for.
    # Swift's own backtracer would hang under ASan at a crash; libFuzzer reports it.
    status=0
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$bin/$(product "$target")" \
        -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$findings/" "$work" "Fuzz/Corpus/$target" >"$work.log" 2>&1 || status=$?
    grep -E "^(INFO: seed corpus|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|.*Fatal error|Test unit written)" "$work.log" || true
    echo "corpus: $(find "Fuzz/Corpus/$target" -type f | wc -l) seeds, $(find "$work" -type f | wc -l) found; full log: $work.log"
    if ((status != 0)); then
        echo "the fuzzer exited with status $status" >&2
        exit 1
    fi
    # libFuzzer's own sign that the code under test is not instrumented: a run that
    # mutates blind finds nothing and would pass for clean.
    if grep -q "no interesting inputs were found" "$work.log"; then
        echo "the $target fuzzer ran without coverage (\"no interesting inputs were found\"): see $work.log" >&2
        exit 1
    fi
    if compgen -G "$findings/*" >/dev/null; then
        echo "FINDINGS in $findings:" >&2
        ls -l "$findings" >&2
        exit 1
    fi
done
