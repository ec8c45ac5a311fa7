"""A loopback server that answers every connection with one behaviour, for hostile-endpoint tests;
its thread is stopped and joined on the way out (no thread outlives the test)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def answering(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """Serves ``handle(conn)`` for each connection on 127.0.0.1; yields the endpoint HOST:PORT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    handle(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True, name="answering")
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not, on Linux
        listener.close()
        thread.join(30)
        assert not thread.is_alive(), "the answering server did not stop"
