"""`flask` commands for a test's own server instance (a browser test server, a scale
deployment), several in one process.

It is the `flask` command itself: its group (`flask.cli.main` is `cli.main()`), run once per
command in one interpreter, each command loading the app again from the same environment.
Only the start of Python, the imports and the app's shell of web files (built once per
process, and at every app start) are paid once rather than once a command: about 3 s of CPU
a command, on a machine where `make test` keeps both cores busy.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import json, sys
from flask.cli import cli
for args in json.loads(sys.argv[1]):
    print("$ flask", *args, flush=True)
    code = cli.main(args, prog_name="flask", standalone_mode=False)
    if code:
        sys.exit(code)
"""


def flask_commands(env, *commands, timeout=120):
    """Run each command (a list of arguments to `flask`) in turn, in one process with `env`,
    until one fails. -> subprocess.CompletedProcess (text output)."""
    return subprocess.run([sys.executable, "-c", _RUN, json.dumps([list(c) for c in commands])],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
