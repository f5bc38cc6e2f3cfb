"""Running the sandbox: in-process (:class:`Sandbox`) or in the foreground (:func:`serve`)."""

from __future__ import annotations

import dataclasses
import errno
import signal
import threading
from types import FrameType, TracebackType
from typing import Any, TextIO

from dexbulk.errors import DexbulkError
from dexbulk.sandbox.api import Api
from dexbulk.sandbox.faults import Faults
from dexbulk.sandbox.handlers import Core, SandboxHTTPServer
from dexbulk.sandbox.options import SandboxOptions
from dexbulk.sandbox.store import Store


class CannotListen(DexbulkError, OSError):
    """The sandbox could not bind its address: most often the port is taken."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)


def _cannot_listen(host: str, port: int, error: OSError) -> CannotListen:
    if error.errno == errno.EADDRINUSE:
        return CannotListen(f"port {port} is already in use", hint="--port 0 picks a free port")
    reason = error.strerror or str(error)
    return CannotListen(f"cannot listen on {host}:{port}: {reason}")


class Sandbox:
    """A local Dex API on 127.0.0.1, backed by SQLite.

    The address book is opened (and seeded if needed) on construction; :meth:`start` binds and
    serves in a daemon thread. Use it as a context manager in tests::

        with Sandbox(SandboxOptions(db_path=tmp_path / "dex.sqlite3")).start() as sandbox:
            requests.get(sandbox.url + "/contacts/count", headers=...)
    """

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.store = Store(options.resolved_db_path)
        try:
            self.reseeded = self.store.prepare(
                seed=options.seed, contacts=options.contacts, fresh=options.fresh
            )
        except BaseException:
            self.store.close()
            raise
        self._core = Core(Api(self.store, options), Faults(options), options.verbose_log)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> Sandbox:
        """Bind and serve in a daemon thread; connections are accepted once this returns."""
        if self._stopped:
            raise RuntimeError("this sandbox was stopped; create a new one")
        if self._server is None:
            # Binding in the constructor also listens, so the port is ready before we return.
            address = (self.options.host, self.options.port)
            try:
                self._server = SandboxHTTPServer(address, self._core)
            except OSError as error:
                raise _cannot_listen(*address, error) from error
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # short, so stop() returns at once
                name=f"dex-sandbox-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base URL clients use, e.g. ``http://127.0.0.1:8765/v1``."""
        host = self.options.host
        # A wildcard bind is reachable on loopback; a wildcard is no address to connect to.
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        """Counters of API traffic (see :class:`dexbulk.sandbox.stats.Stats`)."""
        return self._core.stats.snapshot()

    def stop(self) -> None:
        """Stop serving, close open connections and the database. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> Sandbox:
        try:
            return self.start()
        except BaseException:
            self.stop()  # close the database the constructor opened
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def banner(url: str, api_key: str) -> str:
    """What a started sandbox prints on stdout: the URL on the first line (scripts read it
    there, with ``--port 0`` too), the key and the ``export`` that uses both on the second."""
    return (
        f"Dex sandbox listening on {url}\n"
        f"API key: {api_key}  (use it: export DEX_API_URL={url} DEX_API_KEY={api_key})\n"
    )


def serve(options: SandboxOptions, *, out: TextIO, err: TextIO) -> None:
    """Run a sandbox in the foreground until Ctrl-C or SIGTERM, then stop cleanly.

    Prints :func:`banner` to ``out`` (two lines, then flushes) and logs one line per request
    to ``err`` unless ``options.verbose_log`` names another stream.
    """
    if options.verbose_log is None:
        options = dataclasses.replace(options, verbose_log=err)
    stop = threading.Event()
    previous: Any = None
    if threading.current_thread() is threading.main_thread():

        def on_term(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with Sandbox(options) as sandbox:
            db = options.resolved_db_path
            state = "freshly seeded" if sandbox.reseeded else "kept from earlier runs"
            err.write(
                f"Address book: {sandbox.store.count()} contacts in {db} "
                f"(seed {options.seed}, {state}). Ctrl-C to stop.\n"
            )
            err.flush()
            out.write(banner(sandbox.url, options.api_key))
            out.flush()
            # wait() with a timeout so Ctrl-C is noticed promptly on every platform.
            while not stop.wait(0.2):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    err.write("Dex sandbox stopped.\n")
    err.flush()
