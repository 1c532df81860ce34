"""Summarise one schemathesis run of tools/schemathesis/run from its JSON and NDJSON reports.

Prints a short summary (operations, test cases, requests, HTTP statuses, GraphQL error
codes, failures) and, for every failure, the request (query and variables), the response
and the hub's request id, so the cause can be looked up in the hub's log.

Exits 0 only when schemathesis itself exited 0, the run completed, at least one query and
one mutation were tested, and no failure or error was recorded; 1 when failures were
found, 2 when the run did not complete (its errors are in schemathesis's own output).

Standard library only; run with the venv's python.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import sys


def decode(content):
    """The text of a recorded request or response body (stored as {"$base64": ...})."""
    if content is None:
        return ""
    if isinstance(content, dict):
        if "$base64" in content:
            return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
        if "string" in content:
            return content["string"]
        return json.dumps(content)
    return str(content)


def parse_json(text):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def error_codes(payload):
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return []
    codes = []
    for error in payload["errors"]:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) else "<no code>")
    return codes


def request_ids(payload):
    ids = []
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        for error in payload["errors"]:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            if isinstance(extensions, dict) and extensions.get("requestId"):
                ids.append(str(extensions["requestId"]))
    return sorted(set(ids))


def header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else value
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", required=True, help="schemathesis JSON report")
    parser.add_argument("--events", required=True, help="schemathesis NDJSON event stream")
    parser.add_argument("--st-exit", type=int, required=True, help="schemathesis's exit code")
    parser.add_argument("--wall", type=float, default=None, help="wall time of the run, in seconds")
    args = parser.parse_args()

    try:
        with open(args.report, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"schemathesis: no usable JSON report ({exc}); schemathesis exited {args.st_exit}")
        return 1

    statuses = collections.Counter()
    codes = collections.Counter()
    labels = set()
    requests = 0
    failures = {}  # (operation, first line of message) -> details
    for line in open(args.events, encoding="utf-8"):
        event = parse_json(line)
        if not isinstance(event, dict) or "ScenarioFinished" not in event:
            continue
        scenario = event["ScenarioFinished"]
        recorder = scenario.get("recorder") or {}
        label = recorder.get("label") or "?"
        interactions = recorder.get("interactions") or {}
        for case_id, interaction in interactions.items():
            response = interaction.get("response") or {}
            requests += 1
            statuses[response.get("status_code")] += 1
            codes.update(error_codes(parse_json(decode(response.get("content")))))
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                operation = failure.get("operation") or label
                message = failure.get("message") or failure.get("title") or "?"
                key = (operation, message.splitlines()[0] if message else "")
                if key in failures:
                    failures[key]["count"] += 1
                    continue
                interaction = interactions.get(case_id) or {}
                request = interaction.get("request") or {}
                response = interaction.get("response") or {}
                body = decode(request.get("body"))
                request_json = parse_json(body)
                response_text = decode(response.get("content"))
                failures[key] = {
                    "count": 1,
                    "operation": operation,
                    "check": check.get("name"),
                    "phase": scenario.get("phase"),
                    "case_id": case_id,
                    "message": message,
                    "request": request_json if request_json is not None else body,
                    "status": response.get("status_code"),
                    "response": response_text,
                    "request_ids": request_ids(parse_json(response_text))
                    or [x for x in [header(response.get("headers"), "x-request-id")] if x],
                }
        if label.startswith(("Query.", "Mutation.")):
            labels.add(label)

    operations = report.get("operations") or {}
    incomplete = not report.get("complete", False) or bool(report.get("errors"))
    cases = report.get("test_cases") or {}
    errors = report.get("errors") or []
    queries = sorted(label for label in labels if label.startswith("Query."))
    mutations = sorted(label for label in labels if label.startswith("Mutation."))
    phases = ", ".join(
        f"{name} {info.get('status')}" for name, info in (report.get("phases") or {}).items()
    )
    wall = f", wall {args.wall:.1f} s" if args.wall is not None else ""

    print(f"schemathesis {report.get('schemathesis_version')} seed {report.get('seed')}: "
          f"ran {report.get('running_time') or 0:.1f} s{wall}, stop reason {report.get('stop_reason')}")
    print(f"operations: {operations.get('tested')} tested of {operations.get('selected')} selected "
          f"({len(queries)} queries, {len(mutations)} mutations); phases: {phases}")
    print(f"test cases: {cases.get('generated')} generated; requests: {requests}; "
          f"HTTP statuses: {dict(sorted(statuses.items(), key=lambda kv: str(kv[0])))}")
    print("GraphQL error codes seen: "
          + (", ".join(f"{code} {count}" for code, count in codes.most_common()) or "none"))
    print(f"failures: {len(failures)} unique ({sum(f['count'] for f in failures.values())} in all); "
          f"errors: {len(errors)}")

    for number, failure in enumerate(failures.values(), 1):
        print()
        print(f"--- failure {number}: {failure['operation']} ({failure['check']}, {failure['phase']} phase, "
              f"case {failure['case_id']}, seen {failure['count']}x)")
        print(failure["message"].splitlines()[0])
        if failure["request_ids"]:
            print(f"hub request id: {', '.join(failure['request_ids'])} (grep the hub's log for it)")
        print("request body:")
        print(json.dumps(failure["request"], ensure_ascii=False, indent=2)
              if not isinstance(failure["request"], str) else failure["request"])
        if isinstance(failure["request"], dict) and isinstance(failure["request"].get("query"), str):
            print("query:")
            print(failure["request"]["query"])
        print(f"response: HTTP {failure['status']}")
        print(failure["response"])

    for number, error in enumerate(errors, 1):
        print()
        print(f"--- error {number}: {json.dumps(error, ensure_ascii=False)[:2000]}")

    ok = (
        args.st_exit == 0
        and report.get("exit_code", 0) == 0
        and report.get("complete", True)
        and not failures
        and not errors
        and (cases.get("with_failures") or 0) == 0
        and queries
        and mutations
    )
    if not queries or not mutations:
        print("\nthe run tested no query or no mutation; refusing to call it a pass")
    if ok:
        return 0
    # 2: the run itself did not complete (schema not loaded, connection errors, ...)
    return 2 if incomplete and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
