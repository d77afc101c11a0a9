"""``python -m devtools.replica --port 8765 [--site KEY]``: serve a replica site in the foreground."""

from __future__ import annotations

import argparse

from devtools.replica.server import DEFAULT_SITE, ReplicaHTTPServer, available_sites, site_dir_for


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve an offline replica site (default: tengrinews.kz).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--site", default=DEFAULT_SITE, choices=available_sites(),
                        help="which source's replica to serve (default: %(default)s)")
    parser.add_argument("--site-dir", help="serve this directory instead (overrides --site)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    site_dir = args.site_dir or site_dir_for(args.site)
    httpd = ReplicaHTTPServer((args.host, args.port), site_dir, verbose=not args.quiet)
    name = "files of " + str(site_dir) if args.site_dir else f"the {args.site} replica"
    print(f"Serving {name} on http://{args.host}:{httpd.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
