"""Schemathesis hooks for the GraphQL fuzz run.

A failure is HTTP 5xx or an `INTERNAL_SERVER_ERROR` anywhere in a response body (the server answers unexpected
states with that code and HTTP 200). Client errors (`FORBIDDEN`, `BAD_USER_INPUT`, …) are the server doing its
job. Every response's outcome is tallied into `$FUZZ_TALLY` (one line per response: the HTTP status and the
first error code, or `data`), so the run can say how many requests it made and what they got.
"""

import json
import os

import schemathesis

TALLY = os.environ.get("FUZZ_TALLY")


def _outcome(response):
    try:
        body = json.loads(response.text)
    except ValueError:
        return "not-json"
    errors = body.get("errors") or []
    if errors:
        return (errors[0].get("extensions") or {}).get("code", "no-code")
    return "data"


@schemathesis.check
def no_internal_server_error(ctx, response, case):
    if TALLY:
        with open(TALLY, "a", encoding="utf-8") as tally:
            tally.write(f"{response.status_code} {_outcome(response)}\n")
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    if "INTERNAL_SERVER_ERROR" in response.text:
        raise AssertionError(f"INTERNAL_SERVER_ERROR in the response: {response.text[:300]}")


# IDs: the real ids of the run's owner (`$FUZZ_IDS`, comma-separated: the workspace, the owner), fresh
# UUIDs (well-formed but nobody's) and arbitrary text, so operations get past id parsing and reach their rules.
_IDS = [i for i in os.environ.get("FUZZ_IDS", "").split(",") if i]
if _IDS:
    from hypothesis import strategies as st

    schemathesis.graphql.scalar(
        "ID",
        st.one_of(
            st.sampled_from(_IDS),
            st.uuids().map(str),
            st.text(max_size=40),
        ).map(schemathesis.graphql.nodes.String),
    )
