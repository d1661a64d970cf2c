"""Serve a replay site on loopback from its own process: `python -m bench.replay_serve SITE_DIR`.

Prints the base URL on the first line, then serves until its standard input closes. A process of its
own keeps the server's work off the measured client's interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wirestance.replay import ReplayServer, ReplaySite


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.replay_serve SITE_DIR", file=sys.stderr)
        return 2
    server = ReplayServer(ReplaySite(Path(argv[0])))
    # Headers and body go out in two writes; with Nagle's algorithm on, a kept-alive connection waits for
    # the client's delayed ACK (~40 ms) before the body, and the benchmark would time that stall.
    server._httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    with server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # the parent closes our stdin to stop us
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
