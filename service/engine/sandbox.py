"""Run a script or expression in a worker process with hard CPU, memory and wall-clock limits.

A trace-based deadline cannot interrupt one C-level operation (``sum([[0]]*120000, [])``, ``"x"*3*10**9``):
it held the whole process, other requests included. The worker is a separate interpreter with
``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` set; the caller waits on a pipe with a wall timeout and kills the
worker when it passes. Workers are started lazily, reused, and replaced after a kill; a forked process
(granian, gunicorn) never uses its parent's workers. Task data and results cross the pipe as pickles of plain data.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_HEADER = struct.Struct("!Q")
# A result or task data bigger than this is refused rather than copied into the service process.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# Idle workers kept per process; a burst of parallel scripts starts more and stops the extra ones.
MAX_IDLE_WORKERS = 2


@dataclass
class Limits:
    """What one evaluation may use: wall-clock seconds (the caller's) and address space (the worker's)."""

    memory_bytes: int = 512 * 1024 * 1024
    startup_s: float = 30.0


LIMITS = Limits()


class SandboxKilled(TimeoutError):
    """The worker passed a limit and was stopped; the message says which (in Swedish)."""


@dataclass
class Stats:
    spawned: int = 0
    killed: int = 0


STATS = Stats()


def run(request: dict[str, Any], time_limit_s: float) -> tuple[str, Any, dict[str, Any] | None]:
    """Send ``request`` to a worker; return ("ok", value, context) or ("error", exception, partial context)."""
    payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    if len(payload) > MAX_MESSAGE_BYTES:
        raise MemoryError(f"uppgifterna är för stora för att köras i skriptmiljön ({len(payload)} byte)")
    worker = _POOL.take()
    try:
        reply = worker.call(payload, time_limit_s)
    except BaseException:
        worker.kill()
        raise
    if worker.alive:
        _POOL.give_back(worker)
    return reply


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), *sys.path])}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from service.engine.sandbox import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        STATS.spawned += 1
        self.alive = True
        self._send(pickle.dumps({"memory_bytes": LIMITS.memory_bytes, "helpers": _picklable_helpers()}))
        self._receive(LIMITS.startup_s)

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, payload: bytes, time_limit_s: float) -> tuple[str, Any, dict[str, Any] | None]:
        self._send(payload)
        reply: tuple[str, Any, dict[str, Any] | None] = pickle.loads(self._receive(time_limit_s))
        if reply[0] == "error" and isinstance(reply[1], MemoryError):
            self.kill()  # after a refused allocation, start afresh rather than trust the heap
            limit = LIMITS.memory_bytes // (1024 * 1024)
            return "error", MemoryError(str(reply[1]) or f"skriptet överskred minnesgränsen ({limit} MB)"), reply[2]
        return reply

    def _send(self, payload: bytes) -> None:
        stdin = self._pipe(self.process.stdin)
        stdin.write(_HEADER.pack(len(payload)) + payload)
        stdin.flush()

    def _receive(self, timeout_s: float) -> bytes:
        stdout = self._pipe(self.process.stdout)
        header = self._read(stdout, _HEADER.size, timeout_s)
        (size,) = _HEADER.unpack(header)
        return self._read(stdout, size, timeout_s)

    def _read(self, stream: IO[bytes], size: int, timeout_s: float) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            ready, _, _ = select.select([stream], [], [], timeout_s)
            if not ready:
                self.kill()
                raise SandboxKilled(f"skriptet avbröts efter {timeout_s} s")
            chunk = os.read(stream.fileno(), min(remaining, 1 << 20))
            if not chunk:
                self.kill()
                raise SandboxKilled("skriptet avbröts: det överskred gränsen för minne eller processortid")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    @staticmethod
    def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
        assert stream is not None
        return stream

    def kill(self) -> None:
        if not self.alive:
            return
        self.alive = False
        STATS.killed += 1
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class _Pool:
    """Idle workers of this process (by pid: a forked child starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._pid = os.getpid()

    def take(self) -> _Worker:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's workers and pipes are not ours to use
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.kill()  # died while idle (killed from outside): never write to its closed pipe
        return _Worker()

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < MAX_IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.kill()

    def stop(self) -> None:
        """Stop every idle worker (tests that change the limits; interpreter exit)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_POOL = _Pool()
stop_workers = _POOL.stop


def _picklable_helpers() -> dict[str, Callable[..., Any]]:
    """Helpers registered at run time travel by reference; one that cannot (a lambda) stays behind."""
    from service.engine import scripting

    found = {}
    for name, helper in scripting.HELPERS.items():
        try:
            pickle.dumps(helper)
        except (pickle.PicklingError, AttributeError, TypeError):
            continue
        found[name] = helper
    return found


# --- the worker side ---------------------------------------------------------------------------------


def serve() -> None:
    """The worker's loop: read a request, evaluate it under the limits, answer; forever."""
    import service.engine  # noqa: F401  (registers the helpers, like the service process)
    from service.engine import scripting

    source = os.fdopen(os.dup(0), "rb")
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a helper prints goes to stderr, never into the reply pipe
    setup = pickle.loads(_read_message(source))
    scripting.HELPERS.update(setup["helpers"])
    resource.setrlimit(resource.RLIMIT_AS, (setup["memory_bytes"], setup["memory_bytes"]))
    _write_message(sink, pickle.dumps("ready"))
    while True:
        message = _read_message(source)
        request = pickle.loads(message)
        _limit_cpu(request["time_limit_s"])
        reply = _answer(request, scripting.run_request)
        _write_message(sink, reply)


def _limit_cpu(seconds: float) -> None:
    """RLIMIT_CPU counts the process's whole life: allow this request ``seconds`` more (rounded up)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    allowed = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (allowed, resource.RLIM_INFINITY))


def _answer(request: dict[str, Any], evaluate: Callable[[dict[str, Any]], tuple[Any, Any]]) -> bytes:
    try:
        value, context = evaluate(request)
        reply = pickle.dumps(("ok", value, context), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # everything the script raised goes back to the caller
        reply = _error_reply(exc, request)
    if len(reply) > MAX_MESSAGE_BYTES:
        reply = _error_reply(MemoryError(f"resultatet är för stort ({len(reply)} byte)"), request)
    return reply


def _error_reply(exc: BaseException, request: dict[str, Any]) -> bytes:
    # A script stopped at the memory limit leaves no partial data behind: it may be what filled the memory.
    context = None if isinstance(exc, MemoryError) else request.get("partial_context")
    try:
        return pickle.dumps(("error", exc, context), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception (or partial data) that cannot travel: its type and message can
        substitute = exc if isinstance(exc, MemoryError) else RuntimeError(f"{type(exc).__name__}: {exc}")
        return pickle.dumps(("error", substitute, None), protocol=pickle.HIGHEST_PROTOCOL)


def _read_message(stream: IO[bytes]) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise SystemExit(0)  # the service process closed the pipe
    (size,) = _HEADER.unpack(header)
    return stream.read(size)


def _write_message(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()
