#!/usr/bin/env python3
"""Runs the README's walkthrough against a live server and compares every output with the README.

The walkthrough is the part of README.md between `<!-- walkthrough -->` and `<!-- /walkthrough -->`.
In it, a fenced block whose info string is `bash A` is typed in terminal A and one marked `bash B` in
terminal B (the supervisor's event stream); the `text A` / `text B` block after it is what that terminal
shows. A `bash server` block is not run: the caller starts the server (docs/walkthrough.sh).

Terminal A's blocks run one after the other in one bash (so functions and variables carry over), each
compared with the output block that follows it (no output block: no output expected). Terminal B's
block runs in the background; at each `text B` block, B's output so far must equal every `text B` block
so far (waiting up to --wait seconds, since events arrive on their own); at the end B must have ended.

Before comparing, both sides are normalised: session ids, CSRF tokens and cookie values become
<session 1>, <csrf 1>, <cookie 1> … in order of first appearance; ICWS dates become <time>; the HTTP
Date header becomes <date>; `:ping` keep-alive comments are dropped. Interaction and assistance ids are
not normalised: the walkthrough resets the server first, so they are the same every time.

The README's server address (http://127.0.0.1:8018) and scratch folder (/tmp/icws-walkthrough) are
replaced by --url and a fresh temporary folder.

    python3 docs/walkthrough_check.py --url http://127.0.0.1:PORT [--readme README.md] [--update]

`--update` writes the outputs of this run into the README's output blocks (unnormalised) instead of
comparing: run it after changing the walkthrough, then read the diff.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
import time

START, END = "<!-- walkthrough -->", "<!-- /walkthrough -->"
README_URL = "http://127.0.0.1:8018"
README_FOLDER = "/tmp/icws-walkthrough"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)


class Block:
    def __init__(self, kind, terminal, text, start, end):
        self.kind, self.terminal, self.text, self.start, self.end = kind, terminal, text, start, end


def parse(readme):
    """The walkthrough's fenced blocks, with their offsets in the README."""
    begin = readme.index(START)
    finish = readme.index(END, begin)
    blocks = []
    for match in FENCE.finditer(readme, begin, finish):
        words = match.group(1).split()
        if len(words) == 2 and words[0] in ("bash", "text") and words[1] in ("A", "B", "server"):
            blocks.append(Block(words[0], words[1], match.group(2), match.start(2), match.end(2)))
    return blocks


class Normaliser:
    """Replaces the values that differ from run to run; numbering follows first appearance."""

    PATTERNS = [
        ("session", re.compile(r"(?:ININ-ICWS-Session-ID: |\"sessionId\":\"|/icws/|icws_)(\d{6,})")),
        ("csrf", re.compile(r"(?:ININ-ICWS-CSRF-Token: |\"csrfToken\":\")([0-9A-Za-z+/=_-]{8,})")),
        ("cookie", re.compile(r"icws_\d+=([^;\s\"']+)")),
    ]

    def __init__(self):
        self.names = {}

    def __call__(self, text):
        for kind, pattern in self.PATTERNS:
            for value in pattern.findall(text):
                key = (kind, value)
                if key not in self.names:
                    count = sum(1 for k in self.names if k[0] == kind)
                    self.names[key] = f"<{kind} {count + 1}>"
        for (kind, value), name in sorted(self.names.items(), key=lambda item: -len(item[0][1])):
            text = text.replace(value, name)
        text = re.sub(r"\b\d{8}T\d{6}Z\b", "<time>", text)
        text = re.sub(r"(?m)^Date: .*$", "Date: <date>", text)
        text = re.sub(r"(?m)^:ping\n\n?", "", text)
        return text


class Shell:
    """One long-lived bash: terminal A."""

    MARK = "__walkthrough_block_done__"

    def __init__(self, cwd):
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1)

    def run(self, script, timeout):
        self.process.stdin.write(script + f"\necho {self.MARK}\n")
        self.process.stdin.flush()
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.process.stdout.readline()
            if line == "" or line.rstrip("\n") == self.MARK:
                break
            lines.append(line)
            if time.monotonic() > deadline:
                raise SystemExit(f"terminal A: a block ran longer than {timeout} s:\n{script}")
        return "".join(lines)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def show_diff(what, expected, actual):
    sys.stdout.writelines(difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True), f"README ({what})", f"this run ({what})"))
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server to run against, e.g. http://127.0.0.1:18018")
    parser.add_argument("--readme", default=os.path.join(os.path.dirname(__file__), "..", "README.md"))
    parser.add_argument("--wait", type=float, default=10, help="seconds to wait for terminal B's events")
    parser.add_argument("--update", action="store_true", help="write this run's outputs into the README")
    args = parser.parse_args()

    readme = open(args.readme, encoding="utf-8").read()
    blocks = parse(readme)
    if not any(b.terminal == "A" for b in blocks):
        raise SystemExit(f"{args.readme}: no walkthrough blocks between {START} and {END}")

    expected_norm, actual_norm = Normaliser(), Normaliser()
    failures = 0
    updates = []  # (block, new text)
    workdir = tempfile.mkdtemp(prefix="walkthrough-")
    shell = Shell(workdir)
    stream, stream_path = None, os.path.join(workdir, "terminal-B.out")
    expected_b = ""

    def stream_output():
        with open(stream_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    try:
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if block.kind == "text" and block.terminal == "B":
                # What terminal B shows by now: every `text B` block so far.
                if stream is None:
                    raise SystemExit("a `text B` block comes before terminal B's command")
                if args.update:
                    time.sleep(1)
                    text = re.sub(r"(?m)^:ping\n\n?", "", stream_output())
                    updates.append((block, text[len(expected_b):]))
                    expected_b = text
                    continue
                expected_b += block.text
                deadline = time.monotonic() + args.wait
                while actual_norm(stream_output()) != expected_norm(expected_b) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if actual_norm(stream_output()) != expected_norm(expected_b):
                    failures += 1
                    show_diff("terminal B so far", expected_norm(expected_b), actual_norm(stream_output()))
                continue
            if block.kind != "bash" or block.terminal == "server":
                continue
            script = block.text.replace(README_URL, args.url).replace(README_FOLDER, workdir)
            if block.terminal == "B":
                out = open(stream_path, "w")
                stream = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", script], cwd=workdir,
                                          stdout=out, stderr=subprocess.STDOUT, text=True)
                continue
            actual = shell.run(script, timeout=60)
            has_output_block = following is not None and following.kind == "text" and following.terminal == "A"
            if args.update:
                if has_output_block:
                    updates.append((following, actual))
                elif actual:
                    print(f"note: a terminal A block prints output but has no `text A` block after it:\n{script}")
                continue
            expected = following.text if has_output_block else ""
            if expected_norm(expected) != actual_norm(actual):
                failures += 1
                show_diff("terminal A", expected_norm(expected), actual_norm(actual))
        if stream is not None:
            try:
                stream.wait(timeout=args.wait)
            except subprocess.TimeoutExpired:
                failures += 1
                print("terminal B: the event stream did not end after the walkthrough (it should end at logout)")
                stream.kill()
    finally:
        shell.close()
        if stream is not None and stream.poll() is None:
            stream.kill()

    if args.update:
        for block, text in sorted(updates, key=lambda u: -u[0].start):
            readme = readme[:block.start] + text + readme[block.end:]
        with open(args.readme, "w", encoding="utf-8") as f:
            f.write(readme)
        print(f"updated {len(updates)} output blocks in {args.readme}")
        return 0
    steps = sum(1 for b in blocks if b.kind == "bash" and b.terminal in "AB")
    if failures:
        print(f"walkthrough: {failures} output(s) differ from the README ({workdir})")
        return 1
    print(f"walkthrough: {steps} blocks, every output as the README shows it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
