#!/usr/bin/env bash
# Fuzzes every GraphQL operation with schemathesis against a fresh server (SQLite, sandbox Telegram), signed
# in as the owner of the demo workspace (`serve --demo`: credit, rented sandbox accounts, dialogs). Fails on any HTTP 5xx or INTERNAL_SERVER_ERROR.
#
#   tests/fuzz/run.sh [max-examples-per-operation]      (default 50)
#
# Needs Python 3 with pip (installs schemathesis into target/fuzz-venv once). Results: docs/SECURITY.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
examples="${1:-50}"
venv="${FUZZ_VENV:-target/fuzz-venv}"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
cargo build -q --bin tgos
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
log="$data/server.log"
# Generous limits: the fuzzer is one client sending thousands of requests; the limits have their own tests.
TGOS_AUTH__SIGN_UPS_PER_IP_PER_HOUR=1000000 \
TGOS_AUTH__IP_LOCKOUT_THRESHOLD=1000000 \
TGOS_AUTH__ACCOUNT_LOCKOUT_THRESHOLD=1000000 \
TGOS_AUTH__API_KEY_REQUESTS_PER_MINUTE=1000000 \
TGOS_AUTH__USER_REQUESTS_PER_MINUTE=1000000 \
TGOS_AUTH__ANONYMOUS_REQUESTS_PER_MINUTE=1000000 \
TGOS_GRAPHQL__INTROSPECTION=true \
    target/debug/tgos serve --addr "127.0.0.1:$port" --data-dir "$data" --demo >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
url="http://127.0.0.1:$port/graphql"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

gql() { curl -sf "$url" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$1"; }
# The demo seed: a user owning a workspace with credit, rented sandbox accounts with dialogs, and offers.
token=""
for _ in $(seq 1 100); do
    if [ -s "$data/demo-login.txt" ]; then
        password=$(sed -n 's/^password: //p' "$data/demo-login.txt")
        token=$(gql "{\"query\":\"mutation(\$p: String!) { signIn(input: {login: \\\"demo\\\", password: \$p}) { session { token } } }\",\"variables\":{\"p\":\"$password\"}}" \
            | python3 -c 'import json,sys; print(((json.load(sys.stdin).get("data") or {}).get("signIn") or {}).get("session", {}).get("token", ""))' || true)
        [ -n "$token" ] && break
    fi
    sleep 0.2
done
[ -n "$token" ] || { echo "could not sign in as the demo user"; cat "$log"; exit 1; }
# Real ids for the fuzzer to draw from beside random ones: the user, workspace, accounts, leases, dialogs.
ids=$(gql '{"query":"{ me { user { id } workspaces { id accounts { nodes { id } } leases { nodes { id } } dialogs { nodes { id } } } } accountOffers { nodes { id } } }"}' "$token" \
    | python3 -c 'import json,sys,re; print(",".join(sorted(set(re.findall(r"\"id\": \"([^\"]+)\"", json.dumps(json.load(sys.stdin)))))))')
echo "ids for the fuzzer: $(echo "$ids" | tr ',' '\n' | wc -l)"

tally="$data/tally"
status=0
FUZZ_IDS="$ids" FUZZ_TALLY="$tally" SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/fuzz "$venv/bin/st" run schema.graphql --url "$url" \
    -H "Authorization: Bearer $token" \
    --checks no_internal_server_error \
    --max-examples "$examples" --workers 2 --phases examples,coverage,fuzzing \
    --suppress-health-check all --continue-on-failure \
    --exclude-name-regex "Mutation\.(signOut|changePassword|revokeSession)$" || status=$?
echo "responses by HTTP status and first error code:"
sort "$tally" | uniq -c | sort -rn
echo "requests: $(wc -l < "$tally")"
if grep -q "INTERNAL\|panicked" "$log"; then
    echo "the server logged internal errors:"; grep "INTERNAL\|panicked" "$log" | head -20
    exit 1
fi
exit $status
