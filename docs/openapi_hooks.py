"""Schemathesis hooks for checking docs/openapi.yaml against a live server (docs/openapi-check.sh).

The document cannot express the session cookie's name (`icws_{sessionId}` depends on the path), so
generic tools cannot log in by themselves. This hook does what a client does: it logs in as
supervisor1 (a member of no workgroup, a supervisor of both demo workgroups) and puts the session id
in the path, the cookie in `Cookie` and the CSRF token in `ININ-ICWS-CSRF-Token`. Admin operations get
`Authorization: Bearer $OPENICWS_ADMIN_TOKEN`.

A 401 (the fuzzer logged the session out, or reset the server) makes schemathesis log in again.
"""

import json
import os
import urllib.request

import schemathesis

BASE_URL = os.environ.get("OPENICWS_URL", "http://127.0.0.1:8018")
ADMIN_TOKEN = os.environ.get("OPENICWS_ADMIN_TOKEN", "demo")
USER = os.environ.get("OPENICWS_FUZZ_USER", "supervisor1")
PASSWORD = os.environ.get("OPENICWS_FUZZ_PASSWORD", "1234")


def login():
    """Logs in and returns (session id, cookie "name=value", CSRF token), read from the 201's headers."""
    body = json.dumps({
        "__type": "urn:inin.com:connection:icAuthConnectionRequestSettings",
        "applicationName": "schemathesis", "userID": USER, "password": PASSWORD,
    }).encode()
    request = urllib.request.Request(
        BASE_URL + "/icws/connection", data=body, method="POST", headers={"Accept-Language": "en-US"})
    with urllib.request.urlopen(request, timeout=30) as response:
        headers = response.headers
        session_id = headers["ININ-ICWS-Session-ID"]
        csrf = headers["ININ-ICWS-CSRF-Token"]
        # "icws_123=…; Path=/icws/123; HttpOnly": the first pair is the cookie to send back.
        cookie = headers["Set-Cookie"].split(";")[0]
    return session_id, cookie, csrf


# Cached until a 401 (a login costs a bcrypt check): an hour is longer than any run.
@schemathesis.auth(refresh_interval=3600, retry_on=[401])
class ICWSSession:
    """One ICWS session for every /icws/{sessionId}/… case; the admin token for /admin/…."""

    def get(self, case, ctx):
        return login()

    def set(self, case, data, ctx):
        session_id, cookie, csrf = data
        path = case.operation.path
        if path.startswith("/admin/"):
            case.headers = case.headers or {}
            case.headers["Authorization"] = "Bearer " + ADMIN_TOKEN
        if "{sessionId}" in path:
            case.path_parameters = case.path_parameters or {}
            case.path_parameters["sessionId"] = session_id
            case.headers = case.headers or {}
            case.headers["Cookie"] = cookie
            case.headers["ININ-ICWS-CSRF-Token"] = csrf
