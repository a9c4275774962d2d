"""Helpers shared by the project's tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPU_SUITE = REPO / "suites" / "cpu.yaml"


def write_suite(root: Path, text: str, name: str = "cpu.yaml") -> Path:
    path = root / "suites" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def digits_suite(scenarios: str, *, extra: str = "", modes: str = "[performance]",
                 backend: str = "onnxruntime") -> str:
    """A one-benchmark suite with the given (indented) scenarios block."""
    return (f"mlperf_suite: 1\nbackend: {backend}\nprofile: quick\nmodes: {modes}\n{extra}"
            f"benchmarks:\n  digits:\n    gpu_batch_size: 32\n    scenarios:\n{scenarios}")


class FileServer:
    """A local HTTP server for download tests (127.0.0.1 only), serving one directory."""

    def __init__(self, root: Path):
        import functools
        import http.server
        import threading

        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _quiet_handler_base():
    import http.server

    return http.server.SimpleHTTPRequestHandler


class _QuietHandler(_quiet_handler_base()):  # type: ignore[misc]
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base
        pass
