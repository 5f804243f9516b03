"""Runs inside tests.sandbox.Sandbox: one JSON command per line on stdin, one
JSON result per line on stdout ({"rc", "stdout", "stderr"}; rc -1 on timeout)."""

import json
import subprocess
import sys


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            done = subprocess.run(
                request["argv"],
                env=request["env"],
                capture_output=True,
                text=True,
                timeout=request["timeout"],
                check=False,
                stdin=subprocess.DEVNULL,
            )
            result = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        except subprocess.TimeoutExpired as err:
            result = {"rc": -1, "stdout": "", "stderr": f"timed out: {err}"}
        except OSError as err:
            result = {"rc": -2, "stdout": "", "stderr": f"cannot run: {err}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
