"""The lock of a run directory, and the one-line error of a directory that cannot be used as asked."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class RunDirError(ValueError):
    """A results directory that cannot be used as asked (in use, complete, not latchjax's): one line."""


class LockError(RunDirError):
    pass


class RunLock:
    """An exclusive ``flock`` on ``DIR/.lock``, held while a process writes DIR. The kernel drops it
    when the process ends, however it ends (kill -9 included), so a stale lock cannot block a resume."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / ".lock"
        self.file = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            f = open(self.path, "a+")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                raise LockError(f"{self.path.parent} is in use by {holder}; wait for it to finish "
                                f"(or stop it) before running or resuming this sweep") from None
            try:  # the holder we waited out may have removed the file we locked: lock the one on disk
                same = os.stat(self.path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            f.close()
        f.seek(0)
        f.truncate()
        f.write(f"latchjax pid {os.getpid()} on {os.uname().nodename}\n")
        f.flush()
        self.file = f
        return self

    def release(self) -> None:
        if self.file is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
