#!/usr/bin/env python3
"""The board's story in a real headless Chromium, driven with Selenium (Debian: chromium, chromium-driver,
python3-selenium). A supervisor and an agent, each in a browser of their own, go through: route, request,
accept, chat both ways; the server is restarted under them and both pages recover; chat again, Done.
Then the store fails (paused, stopped, resumed) and an admin reset ends the sessions (back to sign-in).

Every action in the pages is done with the keyboard alone (Tab, typing, Enter), at 1280 px; the views are
also checked at 390 px (no sideways scrolling) and for text contrast. Screenshots go to --artifacts.

Run by Tests/ICWSServerTests/BoardBrowserTests.swift:
    board_story.py --server .build/debug/openicws --artifacts test-artifacts/board
Exit 0 when the story passes; otherwise a message on standard error and exit 1.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

TOKEN = "board-test-token"
WIDE, NARROW = 1280, 390


class StoryFailed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An openicws process on a fixed port and data folder, so that it can be restarted in place."""

    def __init__(self, binary, port, data, log_path):
        self.binary, self.port, self.data, self.log_path = binary, port, data, log_path
        self.process = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--data", self.data, "--admin-token", TOKEN,
             "--log-level", "warning", "--store-fault-seconds", "6", "--shutdown-grace-seconds", "4"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=tempfile.gettempdir())  # the page is in the binary
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise StoryFailed(f"the server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise StoryFailed("the server did not start listening within 30 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def fetch(self, method, path, body=None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                is_json = "json" in (response.headers.get("Content-Type") or "").lower() and text.strip()
                return response.status, dict(response.headers), (json.loads(text) if is_json else text)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()


def browser(name, artifacts):
    options = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix=f"board-{name}-")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDE},900", "--lang=en-US", "--force-prefers-reduced-motion",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(WIDE, 900)
    driver.name_in_story = name
    driver.profile = profile
    return driver


def wait(description, condition, timeout=15.0):
    deadline = time.time() + timeout
    last_error = None
    while time.time() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # the page is changing under the query: try again
            last_error = error
        time.sleep(0.1)
    raise StoryFailed(f"timed out after {timeout:.0f} s waiting for: {description}"
                      + (f" (last error: {last_error})" if last_error else ""))


def keys(driver, *sequence):
    ActionChains(driver).send_keys(*sequence).perform()


def tab_to(driver, css, what, limit=60):
    """Presses Tab until the focused element matches `css` (keyboard-only use); fails if it never does."""
    for _ in range(limit):
        if driver.execute_script("return document.activeElement && document.activeElement.matches(arguments[0])", css):
            return
        keys(driver, Keys.TAB)
    raise StoryFailed(f"{driver.name_in_story}: Tab never reached {what} ({css})")


def focus_visible(driver):
    """The focused element draws a visible outline (keyboard focus)."""
    return driver.execute_script("""
        const e = document.activeElement; if (!e || e === document.body) return false;
        const s = getComputedStyle(e);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;""")


def status(driver):
    return driver.execute_script("return document.body.dataset.link")


def text(driver, css):
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", css)


def visible(driver, css):
    return driver.execute_script("""
        const e = document.querySelector(arguments[0]);
        return !!e && !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);""", css)


CONTRAST = """
function lum(c) { const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(x => { x /= 255;
  return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126*v[0] + 0.7152*v[1] + 0.0722*v[2]; }
function bg(e) { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
  const a = c.match(/[\\d.]+/g); if (a && (a.length < 4 || Number(a[3]) > 0.5)) return c; } return 'rgb(255,255,255)'; }
const bad = [];
for (const e of document.querySelectorAll('body *')) {
  if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  if (!(e.offsetWidth || e.offsetHeight) || e.closest('.visually-hidden')) continue;
  const a = lum(getComputedStyle(e).color), b = lum(bg(e));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) bad.push(`${e.tagName}.${e.className} "${e.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return bad;
"""


def check_contrast(driver, where):
    bad = driver.execute_script(CONTRAST)
    if bad:
        raise StoryFailed(f"{driver.name_in_story} ({where}): text below 4.5:1 contrast: {bad}")


def check_narrow(driver, artifacts, shot):
    driver.set_window_size(NARROW, 844)
    wait(f"{driver.name_in_story} at {NARROW} px without sideways scrolling", lambda: driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"))
    check_contrast(driver, f"{NARROW} px")
    driver.save_screenshot(os.path.join(artifacts, shot))
    driver.set_window_size(WIDE, 900)


def sign_in(driver, user, password):
    """At the sign-in form: type the user id (focused on load), Tab, password, Enter."""
    wait(f"{driver.name_in_story}: the sign-in form has focus", lambda: driver.execute_script(
        "return document.activeElement && document.activeElement.id === 'user-id'"))
    keys(driver, user)
    tab_to(driver, "#password", "the password field")
    if not focus_visible(driver):
        raise StoryFailed(f"{driver.name_in_story}: the focused password field shows no visible focus")
    keys(driver, password, Keys.ENTER)


class StreamThief:
    """An event stream opened with a page's own session cookie: the server closes the page's stream for it.
    (http.client rather than urllib, which sends `Connection: close`.)"""

    def __init__(self, base, path, cookie):
        self.received = ""
        host, port = base[len("http://"):].split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", "Cookie": cookie})
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise StoryFailed(f"the competing stream answered {self.response.status}")
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        try:
            while True:
                chunk = self.response.read1(65536)
                if not chunk:
                    return
                self.received += chunk.decode(errors="replace")
        except Exception:
            return

    def close(self):
        try:
            self.connection.close()
        except Exception:
            pass


def take_over_stream(server, driver):
    cookies = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    session = [c for c in cookies if c["name"].startswith("icws_")]
    if not session:
        raise StoryFailed(f"{driver.name_in_story}: no icws_ session cookie in the browser")
    cookie = session[-1]
    sid = cookie["name"][len("icws_"):]
    return StreamThief(server.base, f"/icws/{sid}/messaging/messages", f"{cookie['name']}={cookie['value']}")


def console_problems(driver):
    problems = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if "Content Security Policy" in message or "Refused to" in message or "Uncaught" in message:
            problems.append(message)
    return problems


def story(server, artifacts):
    # The page itself: served at / and /board with the CSP header; no such file answers 404.
    for path in ("/", "/board"):
        code, headers, _ = server.fetch("GET", path)
        csp = {k.lower(): v for k, v in headers.items()}.get("content-security-policy")
        if code != 200 or csp != "default-src 'self'":
            raise StoryFailed(f"GET {path}: {code}, Content-Security-Policy {csp!r}")

    supervisor = browser("supervisor", artifacts)
    agent = browser("agent", artifacts)
    drivers = [supervisor, agent]
    try:
        supervisor.get(server.base + "/board")
        agent.get(server.base + "/")
        check_contrast(agent, "sign-in")

        # A wrong password is refused with a message; then both sign in with the keyboard alone.
        sign_in(supervisor, "supervisor1", "wrong")
        wait("the supervisor is told the password is wrong", lambda: "not right" in (text(supervisor, "#login-reason") or ""))
        wait("focus returns to the emptied password field", lambda: supervisor.execute_script(
            "return document.activeElement.id === 'password' && document.activeElement.value === ''"))
        keys(supervisor, "1234", Keys.ENTER)
        sign_in(agent, "agent1", "1234")
        for d in drivers:
            wait(f"{d.name_in_story}'s page is live", lambda d=d: status(d) == "live")
        wait("the supervisor sees the empty board", lambda: visible(supervisor, "#board-empty"))
        wait("the agent sees the empty interaction list", lambda: visible(agent, "#agent-empty"))
        if visible(agent, "#show-board"):
            raise StoryFailed("an agent who supervises no workgroup is offered the supervisor board")

        # Route: the ACD hands a Support call to the longest-idle logged-in member (agent1 is the only one).
        code, _, created = server.fetch("POST", "/admin/interactions", {"workgroup": "Support", "remoteName": "Pat Caller"})
        if code != 201 or created["agent"] != "agent1":
            raise StoryFailed(f"routing answered {code}: {created}")
        interaction = created["interactionId"]
        item = f'li[data-interaction-id="{interaction}"]'
        wait("the agent sees the routed call", lambda: "Pat Caller" in (text(agent, item) or ""))

        # Request: the agent describes the problem and asks a supervisor.
        tab_to(agent, f"{item} textarea", "the problem text")
        if not focus_visible(agent):
            raise StoryFailed("the focused problem field shows no visible focus")
        keys(agent, "Caller wants a refund over my limit")
        tab_to(agent, f"{item} form.ask button", "Ask a supervisor")
        keys(agent, Keys.ENTER)
        wait("the agent sees the request waiting", lambda: "waiting for a supervisor" in (text(agent, f"{item} .assist-state") or ""))

        # The supervisor is told: a highlighted card, the title counts it, the live region says it.
        card = "li.request"
        wait("a new card on the board", lambda: visible(supervisor, f"{card}.is-new"))
        wait("the title counts the unseen request", lambda: supervisor.title.startswith("(1)"))
        wait("the live region announces it", lambda: "New assistance request from Agent One" in text(supervisor, "#announcer"))
        for expected in ("Agent One", "Support", "Caller wants a refund over my limit", interaction):
            wait(f"the card shows {expected!r}", lambda e=expected: e in text(supervisor, card))
        wait("the card shows the caller's name", lambda: "Pat Caller" in text(supervisor, card))
        first = text(supervisor, f"{card} .waited")
        wait("the waiting time ticks", lambda: text(supervisor, f"{card} .waited") != first, timeout=5)
        supervisor.save_screenshot(os.path.join(artifacts, "supervisor-new-request.png"))

        # Accept with the keyboard; focus moves to the chat field.
        tab_to(supervisor, f"{card} button.accept", "Accept")
        if not focus_visible(supervisor):
            raise StoryFailed("the focused Accept button shows no visible focus")
        keys(supervisor, Keys.ENTER)
        wait("the card says accepted", lambda: "You accepted" in text(supervisor, f"{card} .state"))
        wait("the accepting supervisor is named", lambda: "Supervisor One" in text(supervisor, f"{card} dl"))
        wait("the title no longer counts it", lambda: not supervisor.title.startswith("("))
        wait("the agent learns who helps", lambda: "Supervisor One is helping" in text(agent, f"{item} .assist-state"))

        # Chat both ways.
        wait("focus in the supervisor's chat field", lambda: supervisor.execute_script(
            "return document.activeElement.matches('li.request .say-input')"))
        keys(supervisor, "Hello, I can approve up to 500.", Keys.ENTER)
        wait("the agent reads the supervisor", lambda: "approve up to 500" in text(agent, f"{item} .chat"))
        tab_to(agent, f"{item} .say-input", "the agent's chat field")
        keys(agent, "Thanks! It is 300.", Keys.ENTER)
        wait("the supervisor reads the agent", lambda: "It is 300" in text(supervisor, f"{card} .chat"))
        supervisor.save_screenshot(os.path.join(artifacts, "supervisor-board.png"))
        agent.save_screenshot(os.path.join(artifacts, "agent-panel.png"))
        for d in drivers:
            check_contrast(d, f"{WIDE} px")
        check_narrow(supervisor, artifacts, "supervisor-board-390.png")
        check_narrow(agent, artifacts, "agent-panel-390.png")

        # The agent's stream is cut (another stream takes the session over, as a proxy dropping it would): the page
        # shows reconnecting, the browser reconnects with Last-Event-ID, and what was sent meanwhile arrives once.
        # (The line is typed first and sent at once: the browser reconnects 3 s after the cut, per `retry:`.)
        tab_to(supervisor, f"{card} .say-input", "the supervisor's chat field")
        keys(supervisor, "Sent while your stream was cut.")
        thief = take_over_stream(server, agent)
        wait("the agent shows reconnecting after the cut", lambda: status(agent) == "reconnecting")
        keys(supervisor, Keys.ENTER)
        wait("the line reached the stream that took over", lambda: "while your stream was cut" in thief.received, timeout=10)
        wait("the agent is live again after the cut", lambda: status(agent) == "live", timeout=20)
        wait("the line sent during the cut arrives", lambda: "while your stream was cut" in text(agent, f"{item} .chat"))
        thief.close()
        count = agent.execute_script(f"return document.querySelectorAll('{item} .chat li').length")
        if count != 4:
            raise StoryFailed(f"after the resume the agent's conversation holds {count} lines, expected 4 (no loss, no repeats)")

        # The server restarts under both pages: "reconnecting", then live again with the same conversation.
        server.stop()
        for d in drivers:
            wait(f"{d.name_in_story} shows reconnecting", lambda d=d: status(d) == "reconnecting")
        supervisor.save_screenshot(os.path.join(artifacts, "supervisor-reconnecting.png"))
        server.start()
        for d in drivers:
            wait(f"{d.name_in_story} is live again after the restart", lambda d=d: status(d) == "live", timeout=40)
        wait("the card is back with its conversation", lambda: "It is 300" in (text(supervisor, f"{card} .chat") or ""))
        wait("the agent's conversation is back", lambda: "approve up to 500" in (text(agent, f"{item} .chat") or ""))
        tab_to(supervisor, f"{card} .say-input", "the supervisor's chat field")
        keys(supervisor, "Go ahead with the refund.", Keys.ENTER)
        wait("the agent reads the supervisor after the restart", lambda: "Go ahead" in text(agent, f"{item} .chat"))
        tab_to(agent, f"{item} .say-input", "the agent's chat field")
        keys(agent, "Done, thank you.", Keys.ENTER)
        wait("the supervisor reads the agent after the restart", lambda: "Done, thank you" in text(supervisor, f"{card} .chat"))
        lines = supervisor.execute_script(f"return document.querySelectorAll('{card} .chat li').length")
        if lines != 5:
            raise StoryFailed(f"the supervisor's conversation holds {lines} lines after the restart, expected 5 (no loss, no repeats)")

        # Done: the request completes and leaves the board; the agent may ask again.
        tab_to(agent, f"{item} button.done", "Done")
        keys(agent, Keys.ENTER)
        wait("the card leaves the board", lambda: not visible(supervisor, card))
        wait("the board is empty again", lambda: visible(supervisor, "#board-empty"))
        wait("the agent can ask again", lambda: visible(agent, f"{item} form.ask"))

        # The store fails: watches are suspended (paused), then faulted (stopped); Resume brings them back.
        server.fetch("POST", "/admin/faults", {"store": "down"})
        code, _, _ = server.fetch("POST", "/admin/interactions", {"workgroup": "Support", "agent": "agent1"})
        if code != 503:
            raise StoryFailed(f"a write with the store down answered {code}, expected 503")
        for d in drivers:
            wait(f"{d.name_in_story} shows paused", lambda d=d: status(d) == "paused")
        for d in drivers:
            wait(f"{d.name_in_story} shows stopped", lambda d=d: status(d) == "stopped", timeout=20)
        server.fetch("POST", "/admin/faults", {"store": "up"})
        tab_to(agent, "#resume", "Resume updates")
        keys(agent, Keys.ENTER)
        wait("the agent's page is live after Resume", lambda: status(agent) == "live")
        tab_to(supervisor, "#resume", "Resume updates")
        keys(supervisor, Keys.ENTER)
        wait("the supervisor's page is live after Resume", lambda: status(supervisor) == "live")
        code, _, second = server.fetch("POST", "/admin/interactions", {"workgroup": "Support", "agent": "agent1", "remoteName": "Sam Second"})
        second_item = f'li[data-interaction-id="{second["interactionId"]}"]'
        wait("the resumed watch delivers a new interaction", lambda: "Sam Second" in (text(agent, second_item) or ""))

        # A second request, which the supervisor ignores: the card stays, says so, and offers Accept still.
        tab_to(agent, f"{second_item} textarea", "the problem text of the second call")
        keys(agent, "Second caller asks for a manager")
        tab_to(agent, f"{second_item} form.ask button", "Ask a supervisor")
        keys(agent, Keys.ENTER)
        wait("the second request is counted in the title", lambda: supervisor.title.startswith("(1)"))
        wait("and announced", lambda: "Second caller asks for a manager" in text(supervisor, "#announcer"))
        tab_to(supervisor, f"{card} button.ignore", "Ignore")
        keys(supervisor, Keys.ENTER)
        wait("the card says it was ignored", lambda: "You ignored it" in text(supervisor, f"{card} .state"))
        if not visible(supervisor, f"{card} button.accept"):
            raise StoryFailed("after ignoring, the supervisor can no longer accept")
        if "waiting for a supervisor" not in text(agent, f"{second_item} .assist-state"):
            raise StoryFailed("ignoring changed what the agent sees")

        # The agent signs out; the server ends the supervisor's session (an admin reset): both are back at sign-in,
        # told why, with focus in the user id field.
        tab_to(agent, "#logout", "Sign out")
        keys(agent, Keys.ENTER)
        wait("the agent is back at sign-in", lambda: visible(agent, "#login-form"))
        wait("the agent is told they signed out", lambda: "You signed out" in text(agent, "#login-reason"))
        server.fetch("POST", "/admin/reset")
        wait("the supervisor is back at sign-in", lambda: visible(supervisor, "#login-form"))
        wait("the supervisor is told why", lambda: "Your session ended: The server was reset" in text(supervisor, "#login-reason"))
        for d in drivers:
            wait(f"{d.name_in_story}: focus in the password field, the user id kept", lambda d=d: d.execute_script(
                "return document.activeElement.id === 'password' && document.getElementById('user-id').value !== ''"))
            if d.title != "Sign in · OpenICWS":
                raise StoryFailed(f"{d.name_in_story}: the title is {d.title!r} after signing out")
        supervisor.save_screenshot(os.path.join(artifacts, "supervisor-session-ended.png"))
        problems = [p for d in drivers for p in console_problems(d)]
        if problems:
            raise StoryFailed(f"the browser console reports: {problems}")
    except Exception:
        for d in drivers:
            try:
                d.save_screenshot(os.path.join(artifacts, f"failure-{d.name_in_story}.png"))
                with open(os.path.join(artifacts, f"failure-{d.name_in_story}.html"), "w") as f:
                    f.write(d.page_source)
            except Exception:
                pass
        raise
    finally:
        for d in drivers:
            d.quit()
            shutil.rmtree(d.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--artifacts", required=True)
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    for name in os.listdir(args.artifacts):  # what an earlier run left
        if name.startswith("failure-"):
            os.remove(os.path.join(args.artifacts, name))
    data = tempfile.mkdtemp(prefix="openicws-board-")
    server = Server(os.path.abspath(args.server), free_port(), data, os.path.join(args.artifacts, "server.log"))
    open(server.log_path, "w").close()
    started = time.time()
    try:
        server.start()
        story(server, args.artifacts)
    except StoryFailed as failure:
        print(f"board story failed: {failure}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(f"board story passed in {time.time() - started:.1f} s; screenshots in {args.artifacts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
