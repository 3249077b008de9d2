"""Schemathesis hooks for checking docs/openapi.yaml against a live server (docs/openapi-check.sh).

The document cannot express the session cookie's name (`icws_{sessionId}` depends on the path), so
generic tools cannot log in by themselves. This hook does what a client does: it logs in and puts the
session id in the path, the cookie in `Cookie` and the CSRF token in `ININ-ICWS-CSRF-Token`. Admin
operations get `Authorization: Bearer $OPENICWS_ADMIN_TOKEN`.

So that the fuzzer reaches past "not found", it plays the demo's users as a client would: the agent side
(requesting help, chatting, completing, disconnecting) runs as agent1, the supervisor side as supervisor1,
and half of the cases on an interaction or a request get a live one, made just before (the admin API
routes an interaction to agent1, who asks for help on it). A logout runs on a session of its own, so it
does not end the session the other cases share.

A 401 (the fuzzer reset the server, say) makes schemathesis log in again.
"""

import itertools
import json
import os
import re
import urllib.error
import urllib.request

import schemathesis


def _tolerate_lambda_parse_errors():
    """Hypothesis names each filtered strategy by parsing the source of its lambda. With two workers on CPython
    3.11.7 that parse can fail inside the interpreter ("SystemError: AST constructor recursion depth
    mismatch", seen in CI within schemathesis's own modules), and the run stops on an error of the tool, not
    of the server. The name only appears in reprs, so an unknown one is enough."""
    try:
        from hypothesis.internal import lambda_sources
    except ImportError:
        return
    original = getattr(lambda_sources, "_lambda_description", None)
    if original is None:
        return

    def described(f):
        try:
            return original(f)
        except (SystemError, RecursionError):
            return "lambda: <unknown>"

    lambda_sources._lambda_description = described


_tolerate_lambda_parse_errors()

BASE_URL = os.environ.get("OPENICWS_URL", "http://127.0.0.1:8018")
ADMIN_TOKEN = os.environ.get("OPENICWS_ADMIN_TOKEN", "demo")
PASSWORD = "1234"  # the demo directory's
# Every other case on an interaction or a request gets a live one. A counter rather than `random`: this runs
# inside Hypothesis's data generation, where the `random` module is deprecated (and warned about).
_ALTERNATE = itertools.count()


def call(method, path, body=None, headers=None):
    """One request; returns (status, headers, parsed JSON body or None). HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE_URL + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, answer_headers, parsed


def login(user):
    """Logs `user` in; returns (session id, cookie "name=value", CSRF token), read from the 201's headers."""
    status, headers, _ = call("POST", "/icws/connection", {
        "__type": "urn:inin.com:connection:icAuthConnectionRequestSettings",
        "applicationName": "schemathesis", "userID": user, "password": PASSWORD,
    }, {"Accept-Language": "en-US"})
    if status != 201:
        raise RuntimeError(f"login as {user} answered {status}")
    # "icws_123=…; Path=/icws/123; HttpOnly": the first pair is the cookie to send back.
    return headers["ININ-ICWS-Session-ID"], headers["Set-Cookie"].split(";")[0], headers["ININ-ICWS-CSRF-Token"]


def session_call(session, method, path, body=None):
    session_id, cookie, csrf = session
    return call(method, f"/icws/{session_id}{path}", body, {"Cookie": cookie, "ININ-ICWS-CSRF-Token": csrf})


def live_interaction():
    """A connected interaction routed to agent1 through Support (its id, or None)."""
    status, _, interaction = call("POST", "/admin/interactions", {"workgroup": "Support", "agent": "agent1"},
                                  {"Authorization": "Bearer " + ADMIN_TOKEN})
    return interaction["interactionId"] if status == 201 else None


def live_request(agent):
    """A live interaction and agent1's request for help on it (ids or None)."""
    interaction_id = live_interaction()
    if interaction_id is None:
        return None, None
    status, _, answer = session_call(agent, "POST", f"/interactions/{interaction_id}/agent-assistance",
                                     {"text": "seeded by openapi_hooks.py"})
    return interaction_id, (answer or {}).get("assistanceId") if status == 201 else None


# Cached until a 401 (a login costs a bcrypt check): an hour is longer than any run.
@schemathesis.auth(refresh_interval=3600, retry_on=[401])
class ICWSSessions:
    """The sessions of agent1 and supervisor1 for /icws/{sessionId}/… cases; the admin token for /admin/…."""

    def get(self, case, ctx):
        return {"agent": login("agent1"), "supervisor": login("supervisor1")}

    def set(self, case, data, ctx):
        path, method = case.operation.path, case.operation.method.upper()
        case.headers = case.headers or {}
        if path.startswith("/admin/"):
            case.headers["Authorization"] = "Bearer " + ADMIN_TOKEN
        if "{sessionId}" not in path:
            return
        if method == "DELETE" and path == "/icws/{sessionId}/connection":
            session = login("agent2")
        elif "supervisor-assistance" in path:
            session = data["supervisor"]
        else:
            session = data["agent"]
        session_id, cookie, csrf = session
        case.path_parameters = case.path_parameters or {}
        # A negative case may break the sessionId's pattern on purpose; it keeps that id (the server answers
        # 401). Replacing it would send a valid request that schemathesis still counts as invalid.
        generated = str(case.path_parameters.get("sessionId", ""))
        if generated and not re.fullmatch(r"\d+", generated):
            return
        case.path_parameters["sessionId"] = session_id
        case.headers["Cookie"] = cookie
        case.headers["ININ-ICWS-CSRF-Token"] = csrf
        if next(_ALTERNATE) % 2 == 0:
            if "{assistanceId}" in path:
                _, assistance_id = live_request(data["agent"])
                if assistance_id is not None:
                    case.path_parameters["assistanceId"] = assistance_id
            elif "{interactionId}" in path:
                interaction_id = live_interaction()
                if interaction_id is not None:
                    case.path_parameters["interactionId"] = interaction_id
