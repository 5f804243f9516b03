"""Loop devices for the lab and the tests: always `losetup -f`, always detached."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence


class LoopDevice:
    """An image file attached to a free loop device, with a file system on it."""

    def __init__(self, directory: str, size_mb: int, mkfs: Sequence[str] | None) -> None:
        self.image = os.path.join(directory, f"disk-{time.monotonic_ns()}.img")
        with open(self.image, "wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        self.device = subprocess.run(
            ["losetup", "-f", "--show", self.image], text=True, capture_output=True, check=True
        ).stdout.strip()
        if mkfs:
            subprocess.run([*mkfs, self.device], capture_output=True, check=True)

    def close(self) -> None:
        subprocess.run(["losetup", "-d", self.device], capture_output=True, check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.image)


@contextlib.contextmanager
def loop_devices(*specs: tuple[int, Sequence[str] | None]) -> Iterator[list[LoopDevice]]:
    """Loop devices of (size in MiB, mkfs argv or None); detached afterwards."""
    made: list[LoopDevice] = []
    with tempfile.TemporaryDirectory(prefix="pyha-loop-", dir="/var/tmp") as directory:
        try:
            for size, mkfs in specs:
                made.append(LoopDevice(directory, size, mkfs))
            yield made
        finally:
            for dev in made:
                dev.close()
