#!/usr/bin/env bash
# One gate run whose options come from environment variables: what action.yml
# passes its inputs as (so no input is ever pasted into a script), and how to
# repeat a CI job on your machine, e.g. shard 3 of .github/workflows/gate.yml:
#
#   VFORKCHECK_SHARD=3/8 VFORKCHECK_SEED=<the job's seed> bash ci/gate.sh
#
# Each variable maps to one flag; an empty or unset one leaves the flag out:
#   VFORKCHECK_IMPLEMENTATION --impl     VFORKCHECK_ARCHITECTURES --arch
#   VFORKCHECK_GOROOT         --goroot   VFORKCHECK_TIERS         --tier
#   VFORKCHECK_IMPL_BINARY    --impl-binary  VFORKCHECK_RUNS      --runs
#   VFORKCHECK_KNOWN_FINDINGS --known    VFORKCHECK_SHARD         --shard
#   VFORKCHECK_LIBC_ROOT      --libc-root    VFORKCHECK_PROPERTIES --property
#   VFORKCHECK_BASELINE       --baseline     VFORKCHECK_CASE_DEADLINE --case-deadline
#   VFORKCHECK_BASELINE_GOROOT --baseline-goroot
#   VFORKCHECK_STRICT_KNOWN   --strict-known when "true" ("false" or empty: left out)
#   VFORKCHECK_SEED           --seed (unset: the Actions run id modulo 2^31,
#                             so every shard of a run has the same seed)
# One of VFORKCHECK_IMPLEMENTATION and VFORKCHECK_IMPL_BINARY is required: a
# run of vforkcheck's own reference spawn says nothing about a runtime, so it
# is asked for by name (VFORKCHECK_IMPLEMENTATION=reference).
# The reports go to $VFORKCHECK_REPORTS (default reports/) as
# NAME.json, .xml (JUnit), .tap and .md (summary); NAME is
# $VFORKCHECK_REPORT_NAME (default gate), with -shard-I-of-N for a shard.
# VFORKCHECK_COMMAND is the vforkcheck executable to run (default: this
# checkout's bin/vforkcheck.js).
# Under Actions ($GITHUB_OUTPUT set) the paths are written as step outputs
# before the gate starts. Exit status: the gate's.
set -euo pipefail
if [[ $# -ne 0 ]]; then
  echo "usage: [VFORKCHECK_...=VALUE ...] bash ci/gate.sh (the variables are listed at the top of ci/gate.sh)" >&2
  exit 2
fi

checkout="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${VFORKCHECK_COMMAND:-}" ]]; then command=("$VFORKCHECK_COMMAND"); else command=(node "$checkout/bin/vforkcheck.js"); fi
directory="${VFORKCHECK_REPORTS:-reports}"
name="${VFORKCHECK_REPORT_NAME:-gate}"
shard="${VFORKCHECK_SHARD:-}"
if [[ -n "$shard" ]]; then name="$name-shard-${shard/\//-of-}"; fi
seed="${VFORKCHECK_SEED:-}"
# The gate takes seeds below 2^31; Actions run ids are larger.
if [[ -z "$seed" && "${GITHUB_RUN_ID:-}" =~ ^[0-9]+$ ]]; then seed=$((GITHUB_RUN_ID % 2147483648)); fi

flags=(--report "$directory/$name.json" --junit "$directory/$name.xml" --tap "$directory/$name.tap" --summary "$directory/$name.md")
add_flag() { if [[ -n "$2" ]]; then flags+=("$1" "$2"); fi; }
add_flag --impl "${VFORKCHECK_IMPLEMENTATION:-}"
add_flag --goroot "${VFORKCHECK_GOROOT:-}"
add_flag --impl-binary "${VFORKCHECK_IMPL_BINARY:-}"
add_flag --arch "${VFORKCHECK_ARCHITECTURES:-}"
add_flag --tier "${VFORKCHECK_TIERS:-}"
add_flag --runs "${VFORKCHECK_RUNS:-}"
add_flag --seed "$seed"
add_flag --known "${VFORKCHECK_KNOWN_FINDINGS:-}"
add_flag --shard "$shard"
add_flag --libc-root "${VFORKCHECK_LIBC_ROOT:-}"
add_flag --baseline "${VFORKCHECK_BASELINE:-}"
add_flag --baseline-goroot "${VFORKCHECK_BASELINE_GOROOT:-}"
add_flag --property "${VFORKCHECK_PROPERTIES:-}"
add_flag --case-deadline "${VFORKCHECK_CASE_DEADLINE:-}"
if [[ "${VFORKCHECK_STRICT_KNOWN:-}" == true ]]; then flags+=(--strict-known); fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "name=$name"
    echo "directory=$directory"
    echo "report=$directory/$name.json"
    echo "junit=$directory/$name.xml"
    echo "tap=$directory/$name.tap"
    echo "summary=$directory/$name.md"
  } >>"$GITHUB_OUTPUT"
fi

# Bad input: one line and exit 2 before the gate starts (the step's outputs
# are written already, so the job summary says the gate wrote none).
refuse() {
  echo "ci/gate.sh: $1" >&2
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "exit-code=2" >>"$GITHUB_OUTPUT"; fi
  exit 2
}
if [[ -z "${VFORKCHECK_IMPLEMENTATION:-}" && -z "${VFORKCHECK_IMPL_BINARY:-}" ]]; then
  refuse "the input 'implementation' (VFORKCHECK_IMPLEMENTATION) is required: what runs the spawn, e.g. go (with goroot), musl (with libc-root), go@1.26; or give only impl-binary for your own drivers"
fi
case "${VFORKCHECK_STRICT_KNOWN:-}" in
  "" | false | true) ;;
  *) refuse "the input 'strict-known' (VFORKCHECK_STRICT_KNOWN) must be true or false, not '$VFORKCHECK_STRICT_KNOWN'" ;;
esac

mkdir -p "$directory"
status=0
"${command[@]}" gate "${flags[@]}" || status=$?
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "exit-code=$status" >>"$GITHUB_OUTPUT"; fi
exit "$status"
