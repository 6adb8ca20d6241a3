"""`python -m deckhand_world [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof] [--log-requests]
[--s3-max-keys N] [--registry]`

Serves moto's server app with the ECS rollout patches applied, plus the control API under
/_deckhand/. With --registry, also runs two container registries (registries.py) whose
addresses `GET /_deckhand/registries` gives. Once everything listens, prints exactly one line to
stdout:

    deckhand-world listening on http://HOST:PORT
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deckhand_world",
        description="deckhand's local world: moto in server mode with the ECS rollout extension.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one (default)"
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="exit when stdin reaches EOF, so the server dies with the process that started it",
    )
    parser.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--s3-max-keys",
        type=_positive_int,
        metavar="N",
        help="S3 list calls return at most N keys per page unless the client asks for fewer "
        "(moto's MOTO_S3_DEFAULT_MAX_KEYS; default 1000, as S3), to exercise paging",
    )
    parser.add_argument(
        "--registry",
        action="store_true",
        help="also run an ECR-like and a Docker-Hub-like container registry on 127.0.0.1 "
        "(docker-registry children behind fronts; see GET /_deckhand/registries)",
    )
    return parser.parse_args(argv)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from . import control, ecs_rollouts

    ecs_rollouts.install()
    return control.ControlMiddleware(DomainDispatcherApplication(create_backend_app))


def exit_on_stdin_eof() -> None:
    def watch() -> None:
        try:
            # os.read, not sys.stdin: no Python-level lock that shutdown could trip over.
            while os.read(sys.stdin.fileno(), 4096):
                pass
        finally:
            # Request threads must not keep us alive; only the registry children need cleanup.
            stop_registries()
            os._exit(0)

    threading.Thread(target=watch, name="stdin-eof", daemon=True).start()


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def stop_registries() -> None:
    # Looked up, not imported: the module (and its imports) loads only with --registry, and the
    # signal handlers must be in place as early as possible.
    module = sys.modules.get(f"{__package__}.registries")
    if module is not None:
        module.shutdown()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Installed first, so that TERM/INT exit with status 0 at any point, even while moto imports.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    status = 0
    try:
        serve(args)
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            status = 1
        else:
            status = stop.code or 0
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_registries()
        # os._exit: a normal interpreter shutdown aborts while the stdin watcher thread holds
        # stdin's lock, and tearing down moto's hundreds of modules takes about a second.
        # The registry children were the only thing left to clean up.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def serve(args: argparse.Namespace) -> None:
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if args.s3_max_keys is not None:
        # Set before moto is imported; moto reads it on every list call.
        os.environ["MOTO_S3_DEFAULT_MAX_KEYS"] = str(args.s3_max_keys)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(
        args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto sends some requests to itself and finds its port here.
    os.environ["MOTO_PORT"] = str(port)
    if args.registry:
        from . import registries

        # From the main thread, before any other thread runs: see registries._die_with_world.
        try:
            registries.start(args.log_requests)
        except registries.RegistryError as error:
            raise SystemExit(f"deckhand-world: {error}") from None
    if args.exit_on_stdin_eof:
        exit_on_stdin_eof()
    print(f"deckhand-world listening on http://{args.host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
