"""Schemathesis hooks for the khcn-hub GraphQL fuzz run (loaded through SCHEMATHESIS_HOOKS).

The one check this run applies, `hub_no_server_error`, fails a response when
  * its HTTP status is 5xx, or
  * its JSON body carries a GraphQL error whose `extensions.code` is
    "INTERNAL_SERVER_ERROR" (the hub's code for a failure inside the server).

Schemathesis's built-in `not_a_server_error` is not used: for GraphQL it also
counts every resolver error that has a `path` and no code it knows as a "server
error", so the hub's deliberate, coded refusals (NOT_FOUND, FORBIDDEN,
CONFLICT, UNAUTHENTICATED, ...) would be reported as failures.
"""

from __future__ import annotations

import json

import schemathesis

INTERNAL = "INTERNAL_SERVER_ERROR"


def _payload(response):
    try:
        return response.json()
    except Exception:
        try:
            return json.loads(response.content)
        except Exception:
            return None


def _internal_errors(payload):
    if not isinstance(payload, dict):
        return []
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return []
    found = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        if isinstance(extensions, dict) and extensions.get("code") == INTERNAL:
            found.append(error)
    return found


def _body_text(response, limit=2000):
    try:
        text = response.content.decode("utf-8", "replace")
    except Exception:
        text = repr(response.content)
    return text if len(text) <= limit else text[:limit] + "…"


@schemathesis.check
def hub_no_server_error(ctx, response, case):
    """No 5xx status and no GraphQL error coded INTERNAL_SERVER_ERROR."""
    if response.status_code >= 500:
        raise AssertionError(
            f"HTTP {response.status_code} from the hub\nResponse body: {_body_text(response)}"
        )
    internal = _internal_errors(_payload(response))
    if internal:
        request_ids = sorted(
            {
                str(e["extensions"].get("requestId") or e["extensions"].get("request_id"))
                for e in internal
                if e["extensions"].get("requestId") or e["extensions"].get("request_id")
            }
        )
        paths = [".".join(str(p) for p in e.get("path", [])) or "<no path>" for e in internal]
        raise AssertionError(
            f"GraphQL error with extensions.code == {INTERNAL} at {', '.join(paths)}"
            + (f" (request id {', '.join(request_ids)})" if request_ids else "")
            + f"\nResponse body: {_body_text(response)}"
        )
