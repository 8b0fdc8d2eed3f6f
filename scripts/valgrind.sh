#!/usr/bin/env bash
# The cancellation, scope and select tests under valgrind's memcheck, release build (issue 12):
# an invalid read or write (a use after free), an uninitialised value or a "client switching
# stacks?" warning fails the run. Run by .ci/run; about 3 minutes on 2 cores once the test
# binaries are built.
#
# What valgrind needs from may (docs/architecture.md, "Checked with valgrind"): the runtime
# registers every coroutine stack with valgrind (may-core/src/sys/valgrind.rs), so that a stack
# switch is seen as one whatever the distance between the stacks, and --max-stackframe is left
# alone (raising it would make more switches look like giant frames, not fewer); it tells
# memcheck that a finished coroutine's stack is readable again before reading its depth
# markers; and under valgrind it makes guard pages with mprotect, as MAY_STACK_GUARD=mprotect
# does (valgrind does not know guard markers and faults on one itself). No suppressions needed.
#
#   scripts/valgrind.sh                  # every file below
#   scripts/valgrind.sh cancel_scope     # some of them
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs valgrind where it is missing (Debian or Ubuntu). Self-contained, so that a shared CI
# set-up script can take it over.
if ! command -v valgrind >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq valgrind >/dev/null
fi

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    tests=(cancel_scope coroutine_cancel coroutine_scope select_macro stress_cancel_select
        cancel_inject_channels cancel_inject_sync cancel_inject_coroutines cancel_inject_select
        cancel_inject_net)
fi

# Two rounds of the 10,000-coroutine cancellation storm (twenty outside valgrind).
export MAY_STRESS_ROUNDS=2
# --fair-sched: valgrind runs one thread at a time; with its default lock a thread woken by
# another waits for a whole time slice, and select_macro's hand-offs between plain threads took
# 5 minutes instead of 1.
options=(--error-exitcode=1 --fair-sched=yes)

for test in "${tests[@]}"; do
    exe=$(cargo test --release -q -p may --test "$test" --no-run --message-format=json |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
    if [ -z "$exe" ]; then
        echo "valgrind: no test binary for $test" >&2
        exit 1
    fi
    echo "-- valgrind $test"
    log=$(mktemp)
    start=$SECONDS
    status=0
    valgrind "${options[@]}" "$exe" --test-threads=1 -q >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || grep -q "client switching stacks" "$log"; then
        cat "$log"
        rm -f "$log"
        echo "valgrind: $test failed (exit status $status)" >&2
        exit 1
    fi
    rm -f "$log"
    echo "   clean, $((SECONDS - start)) s"
done
