"""``python -m news_etl.replica --port 8765``: serve the replica in the foreground."""

from __future__ import annotations

import argparse

from news_etl.replica.server import SITE_DIR, ReplicaHTTPServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the offline tengrinews.kz replica.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--site-dir", default=str(SITE_DIR))
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    httpd = ReplicaHTTPServer((args.host, args.port), args.site_dir, verbose=not args.quiet)
    print(f"Replica of tengrinews.kz on http://{args.host}:{httpd.server_address[1]}/ (Ctrl-C to stop)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
