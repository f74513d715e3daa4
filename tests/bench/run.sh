#!/usr/bin/env bash
# Load benchmark of the tgos server, on SQLite and on PostgreSQL.
#
# For each backend it starts a fresh release server on 127.0.0.1 (a free port), signs up one user, and runs
# wrk against it:
#   healthz      GET /healthz, the static endpoint: the throughput ceiling of the HTTP stack
#   typename     `{ __typename }` over POST /graphql, unauthenticated: the ceiling of the GraphQL stack (no
#                database), to tell GraphQL cost from storage cost
#   me           the authenticated `me` query (POST /graphql, bearer token): a session lookup plus a user read
#   signin       the `signIn` mutation: one argon2id verification (m=19 MiB, t=2, p=1) per request, on the
#                blocking pool behind a semaphore sized to the cores; RATE_LIMITED answers are counted apart
#   me+storm     `me` again while a sign-in storm (its own wrk, started first) runs against the same server
# and prints a table per backend with the ratios the performance targets are stated in:
#   me rps / healthz rps  (target >= 50%)     me p99 under storm / me p99 idle  (target <= 2x)
#
# Usage (from anywhere):  tests/bench/run.sh
# Knobs, all optional:
#   BENCH_BACKENDS="sqlite postgres"   which backends to run
#   BENCH_DURATION=15                  seconds per measured run
#   BENCH_THREADS=2                    wrk threads
#   BENCH_ME_CONNS="8 32"              connection counts for healthz, me and me+storm
#   BENCH_SIGNIN_CONNS=16              connections of the sign-in runs (alone and as the storm)
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   server part of the PostgreSQL URL (trust auth)
#   BENCH_REV=HEAD                     benchmark this committed revision (exported to a temp dir and built
#                                      there, sharing target/) instead of the work tree as it is
#   BENCH_SETTLE_MAX=120               seconds to wait, before each run, for the CPUs to go quiet
#
# Caveats: wrk runs on the same machine and shares its cores with the server (on the 2-core reference
# machine it takes a good part of one), so absolute figures are lower than on a dedicated load generator;
# the ratios are what to compare. Only loopback traffic is sent, and every run is bounded in time.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
BENCH="$REPO/tests/bench"
LUA="$BENCH/bench.lua"

BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
DURATION=${BENCH_DURATION:-15}
THREADS=${BENCH_THREADS:-2}
ME_CONNS=${BENCH_ME_CONNS:-"8 32"}
SIGNIN_CONNS=${BENCH_SIGNIN_CONNS:-16}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
SETTLE_MAX=${BENCH_SETTLE_MAX:-120}
REV=${BENCH_REV:-}

# The benchmark user. The password is what every signIn of the storm verifies.
USERNAME=benchuser
EMAIL=bench@example.com
PASSWORD="correct horse battery staple"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---- tools -----------------------------------------------------------------------------------------------
need() { # need COMMAND [DEBIAN_PACKAGE]: installs the package when missing and we may (root with apt-get)
    command -v "$1" >/dev/null 2>&1 && return
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${2:-$1}"
        apt-get update -qq >/dev/null && apt-get install -y -qq "${2:-$1}" >/dev/null
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 is required (Debian package ${2:-$1})"
}
need wrk
need curl
[[ " $BACKENDS " == *" postgres "* ]] && need psql postgresql-client

# ---- state and cleanup -----------------------------------------------------------------------------------
WORK=$(mktemp -d -t tgos-bench.XXXXXX)
SERVER_PID=""
STORM_PID=""
PG_DB=""

stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

drop_db() {
    if [[ -n $PG_DB ]]; then
        psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null || true
    fi
    PG_DB=""
}

cleanup() {
    if [[ -n $STORM_PID ]]; then kill "$STORM_PID" 2>/dev/null || true; fi
    stop_server
    drop_db
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build -----------------------------------------------------------------------------------------------
# The binary is copied out of target/ at once, so that another build while the benchmark runs cannot swap it.
if [[ -n $REV ]]; then
    SOURCE=$(git -C "$REPO" rev-parse --short "$REV")
    log "building the release server of $SOURCE (git archive, cargo build --release --bin tgos)"
    mkdir -p "$WORK/src"
    git -C "$REPO" archive "$REV" | tar -x -C "$WORK/src"
    cargo build --release --bin tgos --quiet --manifest-path "$WORK/src/Cargo.toml" --target-dir "$REPO/target"
else
    SOURCE=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo 'work tree')
    log "building the release server of the work tree, $SOURCE (cargo build --release --bin tgos)"
    cargo build --release --bin tgos --quiet
fi
TGOS="$WORK/tgos"
cp "$REPO/target/release/tgos" "$TGOS"

# ---- the server ------------------------------------------------------------------------------------------
# start_server BACKEND: starts tgos with its own data dir (and database), sets BASE to its URL.
start_server() {
    local backend=$1 dir="$WORK/$1"
    mkdir -p "$dir"
    local -a env=(
        # Lockout would soon refuse a storm of sign-ins from one address to one account; lift it.
        TGOS_AUTH__ACCOUNT_LOCKOUT_THRESHOLD=1000000
        TGOS_AUTH__IP_LOCKOUT_THRESHOLD=1000000
        # The per-caller request budgets would throttle one user's (and one address's) load; lift them.
        TGOS_AUTH__USER_REQUESTS_PER_MINUTE=1000000000
        TGOS_AUTH__ANONYMOUS_REQUESTS_PER_MINUTE=1000000000
        # A quick stop between backends; plain log lines to grep.
        TGOS_SERVER__SHUTDOWN_GRACE_SECS=2
        NO_COLOR=1
        # The log filter stays at its default (info): the port is told only by the info-level `listening on`
        # line, and nothing is logged per request, so the log does not weigh on the figures.
    )
    if [[ $backend == postgres ]]; then
        PG_DB="tgos_bench_$$_$(date +%s)"
        psql "$PG_URL/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
        env+=(DATABASE_URL="$PG_URL/$PG_DB")
    fi
    # Run from the data dir so that no stray tgos.toml in the caller's directory is picked up.
    (cd "$dir" && exec env "${env[@]}" "$TGOS" serve --addr 127.0.0.1:0 --data-dir "$dir") \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    local addr=""
    for _ in $(seq 1 300); do
        addr=$(grep -o 'listening on http://[0-9.]*:[0-9]*/graphql' "$dir/server.log" | head -n1 || true)
        [[ -n $addr ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; die "server exited on start"; }
        sleep 0.2
    done
    [[ -n $addr ]] || { cat "$dir/server.log" >&2; die "server did not say where it listens"; }
    addr=${addr#listening on }
    BASE=${addr%/graphql}
    log "$backend server (pid $SERVER_PID) on $BASE"
}

# gql FILE [TOKEN]: POSTs the JSON body in FILE to /graphql and prints the response body.
gql() {
    local -a auth=()
    [[ -n ${2:-} ]] && auth=(-H "Authorization: Bearer $2")
    curl -sS --max-time 30 -H 'Content-Type: application/json' "${auth[@]}" \
        --data-binary "@$1" "$BASE/graphql"
}

# busy_percent: how busy the CPUs are over one second, in percent. Anything else running skews the figures.
busy_percent() {
    local a b
    read -r -a a < <(head -n1 /proc/stat)
    sleep 1
    read -r -a b < <(head -n1 /proc/stat)
    # Fields after "cpu": user nice system idle iowait irq softirq steal ...; idle time = idle + iowait.
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$((b[4] - a[4] + b[5] - a[5]))
    echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# settle: waits (up to SETTLE_MAX seconds) until the CPUs are under 20% busy, so that a run starts on a quiet
# machine (the server finished the previous run's backlog, no build or test elsewhere). Sets PRE_BUSY, the
# last reading, which the table shows beside each run: a high one means that row is skewed.
PRE_BUSY=0
settle() {
    local waited=0
    PRE_BUSY=$(busy_percent)
    while ((PRE_BUSY >= 20 && waited < SETTLE_MAX)); do
        ((waited == 0)) && log "  waiting for the CPUs to go quiet (${PRE_BUSY}% busy)"
        sleep 4
        waited=$((waited + 5))
        PRE_BUSY=$(busy_percent)
    done
    ((PRE_BUSY < 20)) || log "  warning: the CPUs are still ${PRE_BUSY}% busy; this run will be skewed"
}

# ---- bodies ----------------------------------------------------------------------------------------------
SIGNUP_BODY="$WORK/signup.json"
ME_BODY="$WORK/me.json"
SIGNIN_BODY="$WORK/signin.json"
TYPENAME_BODY="$WORK/typename.json"
printf '%s\n' '{"query":"query Typename { __typename }","operationName":"Typename"}' >"$TYPENAME_BODY"
cat >"$SIGNUP_BODY" <<EOF
{"query":"mutation SignUp { signUp(input:{email:\"$EMAIL\", fullName:\"Bench User\", username:\"$USERNAME\", password:\"$PASSWORD\", ageConfirmed:true}) { session { token } } }","operationName":"SignUp"}
EOF
cat >"$ME_BODY" <<'EOF'
{"query":"query Me { me { user { id username } } }","operationName":"Me"}
EOF
cat >"$SIGNIN_BODY" <<EOF
{"query":"mutation SignIn { signIn(input:{login:\"$USERNAME\", password:\"$PASSWORD\", ageConfirmed:true}) { session { token } } }","operationName":"SignIn"}
EOF

# ---- wrk -------------------------------------------------------------------------------------------------
# bench SECONDS CONNS KIND PATH [BODY_FILE] [TOKEN] [EXPECT]: one wrk run; prints its RESULT line.
bench() {
    local secs=$1 conns=$2 kind=$3 path=$4
    wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s -s "$LUA" "$BASE$path" \
        -- "$kind" "${5:--}" "${6:--}" "${7:--}" | grep '^RESULT ' \
        || die "wrk gave no result for $kind"
}
typename_run() { bench "$1" "$2" typename /graphql "$TYPENAME_BODY" - '"__typename"'; }
me_run() { bench "$1" "$2" me /graphql "$ME_BODY" "$TOKEN" '"username"'; }
signin_run() { bench "$1" "$2" signin /graphql "$SIGNIN_BODY" - '"token"'; }

# field LINE KEY: the value of KEY=value in a RESULT line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

RESULTS="$WORK/results" # lines: BACKEND SCENARIO CONNS RESULT-line (with pre_busy= appended)
: >"$RESULTS"
record() { # record BACKEND SCENARIO CONNS RESULT-line
    [[ $4 == RESULT\ * ]] || die "no result for $1 $2 c$3"
    printf '%s %s %s %s pre_busy=%s\n' "$1" "$2" "$3" "$4" "$PRE_BUSY" >>"$RESULTS"
    local bad=$(($(field "$4" gql_errors) + $(field "$4" non200) + $(field "$4" sock_errors) + $(field "$4" timeouts)))
    log "  $2 c$3: $(field "$4" rps) rps, p50 $(field "$4" p50_ms) ms, p99 $(field "$4" p99_ms) ms," \
        "ok $(field "$4" ok), rate_limited $(field "$4" rate_limited), failed $bad"
}

run_backend() {
    local backend=$1 conns line
    start_server "$backend"

    # One user, and a check that `me` and `signIn` really succeed before anything is measured.
    local reply
    reply=$(gql "$SIGNUP_BODY")
    TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$reply")
    [[ -n $TOKEN && $reply != *'"errors"'* ]] || die "signUp failed: $reply"
    reply=$(gql "$ME_BODY" "$TOKEN")
    [[ $reply == *"\"username\":\"$USERNAME\""* && $reply != *'"errors"'* ]] || die "me failed: $reply"
    reply=$(gql "$SIGNIN_BODY")
    [[ $reply == *'"token":"'* && $reply != *'"errors"'* ]] || die "signIn failed: $reply"

    log "$backend: warming up"
    bench 3 32 warmup /healthz >/dev/null
    me_run 3 32 >/dev/null
    signin_run 3 "$SIGNIN_CONNS" >/dev/null

    for conns in $ME_CONNS; do
        log "$backend: healthz and me, $conns connections, ${DURATION}s each"
        settle
        record "$backend" healthz "$conns" "$(bench "$DURATION" "$conns" healthz /healthz - - ok)"
        settle
        record "$backend" typename "$conns" "$(typename_run "$DURATION" "$conns")"
        settle
        record "$backend" me "$conns" "$(me_run "$DURATION" "$conns")"
    done

    log "$backend: signIn, $SIGNIN_CONNS connections, ${DURATION}s"
    settle
    record "$backend" signin "$SIGNIN_CONNS" "$(signin_run "$DURATION" "$SIGNIN_CONNS")"

    # The storm starts 2 s before `me` and ends 2 s after it, so `me` is measured entirely under it.
    for conns in $ME_CONNS; do
        log "$backend: me with $conns connections under a signIn storm of $SIGNIN_CONNS connections"
        settle
        signin_run $((DURATION + 4)) "$SIGNIN_CONNS" >"$WORK/storm.out" &
        STORM_PID=$!
        sleep 2
        line=$(me_run "$DURATION" "$conns")
        wait "$STORM_PID" || die "the storm's wrk failed"
        STORM_PID=""
        record "$backend" me+storm "$conns" "$line"
        record "$backend" storm "$SIGNIN_CONNS" "$(cat "$WORK/storm.out")"
    done

    # Errors the answers did not show (the fresh master key's warning is expected and left out).
    local problems
    problems=$(grep -E ' (ERROR|WARN) ' "$WORK/$backend/server.log" | grep -v 'new master key' || true)
    if [[ -n $problems ]]; then
        log "$backend: the server logged warnings or errors (first 10):"
        head -n 10 <<<"$problems" >&2
    fi
    stop_server
    drop_db
}

for backend in $BACKENDS; do
    case $backend in
        sqlite | postgres) run_backend "$backend" ;;
        *) die "unknown backend $backend (sqlite or postgres)" ;;
    esac
done

# ---- report ----------------------------------------------------------------------------------------------
# get BACKEND SCENARIO CONNS KEY: one figure from the recorded results.
get() { field "$(awk -v b="$1" -v s="$2" -v c="$3" '$1 == b && $2 == s && $3 == c' "$RESULTS" | head -n1)" "$4"; }
# ratio A B SCALE FORMAT: A / B * SCALE, printed with FORMAT.
ratio() { awk -v a="$1" -v b="$2" -v k="$3" -v f="$4" 'BEGIN { if (b > 0) printf f, k * a / b; else print "n/a" }'; }

echo
echo "tgos load benchmark — $SOURCE," \
    "$(nproc) cores, $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), -t$THREADS, ${DURATION}s per run," \
    "wrk on the same cores as the server"
for backend in $BACKENDS; do
    echo
    echo "[$backend]"
    printf '%-10s %5s %10s %9s %9s %9s %9s %8s %7s %8s\n' \
        scenario conns rps p50_ms p99_ms max_ms ok rate_lim failed pre_busy
    while read -r b scenario conns line; do
        [[ $b == "$backend" ]] || continue
        failed=$(($(field "$line" gql_errors) + $(field "$line" non200) + $(field "$line" sock_errors) + $(field "$line" timeouts)))
        printf '%-10s %5s %10s %9s %9s %9s %9s %8s %7s %7s%%\n' "$scenario" "$conns" \
            "$(field "$line" rps)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$(field "$line" max_ms)" \
            "$(field "$line" ok)" "$(field "$line" rate_limited)" "$failed" "$(field "$line" pre_busy)"
    done <"$RESULTS"
    for conns in $ME_CONNS; do
        printf 'c%-3s me/healthz rps = %s (target >= 50%%)   typename/healthz = %s   me p99 storm/idle = %s (target <= 2x)\n' "$conns" \
            "$(ratio "$(get "$backend" me "$conns" rps)" "$(get "$backend" healthz "$conns" rps)" 100 '%.0f%%')" \
            "$(ratio "$(get "$backend" typename "$conns" rps)" "$(get "$backend" healthz "$conns" rps)" 100 '%.0f%%')" \
            "$(ratio "$(get "$backend" me+storm "$conns" p99_ms)" "$(get "$backend" me "$conns" p99_ms)" 1 '%.2fx')"
    done
done
echo
echo "rps counts every answer; ok = successful answers, rate_lim = RATE_LIMITED answers (sign-in admission"
echo "refused), failed = other GraphQL errors, non-200 answers, socket errors and timeouts. storm = the"
echo "sign-in wrk that ran alongside the me+storm row above it. pre_busy = CPU use in the second before the"
echo "run; above ~20% something else was running and the row is skewed."
