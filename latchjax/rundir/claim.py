"""Which directories are latchjax's, and what ``--force`` may remove from them.

Every command that writes a directory (``sweep``, ``landscape``, ``bengio``, ``guess``) marks it with
``DIR/.latchjax`` (``{"latchjax": version, "command": ...}``) and writes only the files :data:`OUTPUTS` names for
that command (and the analyses of a sweep: ``explain``, ``diagnose``). ``--force`` replaces a directory only
when it is a run of the *same* command -- marked, or laid out as latchjax 0.1 wrote it -- and every file in it is
one that command writes; anything else there (a file latchjax did not write, another command's run) is refused
with one line and nothing is touched. Nothing is removed outside :data:`OUTPUTS`.
"""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path

from latchjax.rundir.files import atomic_write
from latchjax.rundir.lock import RunDirError

MARKER = ".latchjax"
VERSION = "0.2.0"

_FORMATS = ("png", "svg", "pdf")


def _figures(prefix: str, *stems: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{stem}.{fmt}" for stem in stems for fmt in _FORMATS)


# the files each command writes into its directory (fnmatch patterns on paths relative to it)
OUTPUTS: dict[str, tuple[str, ...]] = {
    "sweep": ("config.json", "meta.json", "results.npz", "params.npz", "snapshots.npz", "results.csv", "history.csv", "summary.csv",
              "horizons.csv", "explain.csv", "explain_summary.csv", "dynamics.csv", "chunks/*.npz",
              "diagnostics/gradient_norms.npz",
              *_figures("figures/", "success_frequency", "mean_val_acc", "val_acc_distribution", "success_vs_lambda0",
                        "success_aligned_vs_reversed", "success_vs_sequences"),
              *_figures("diagnostics/", "gradient_norms", "trajectories", "fixed_points")),
    "landscape": ("surface.npz", *_figures("", "surface", "heatmap", "landscape")),
    "bengio": ("config.json", "convergence.csv", "grid.csv", *_figures("", "convergence_vs_length",
                                                                       "convergence_vs_w0_noise")),
    "guess": ("guess.csv", "summary.json"),
}
ALWAYS = (MARKER, ".lock")  # and the ``.tmp`` of any file being written
# a sweep replaced with --force keeps the run it replaces here until the new one has finished
REPLACED = ".replaced"


def _files(path: Path) -> list[str]:
    """Every file under ``path`` (relative, POSIX); directories only where they are empty."""
    out = []
    for root, dirs, files in os.walk(path):
        rel = Path(root).relative_to(path)
        out += [(rel / f).as_posix() for f in files]
        if not dirs and not files and rel != Path("."):
            out.append(rel.as_posix() + "/")
    return sorted(out)


def written_by(command: str, rel: str) -> bool:
    """Whether ``rel`` (a path relative to a run directory) is a file ``command`` writes there."""
    name = rel.removesuffix(".tmp")
    if command == "sweep" and name.startswith(REPLACED + "/"):
        name = name.removeprefix(REPLACED + "/")
    if name in ALWAYS:
        return True
    if name.endswith("/"):  # an empty directory: one a command makes
        return any(p.startswith(name) for p in OUTPUTS[command])
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in OUTPUTS[command])


def owner(path: Path) -> str | None:
    """The command whose run ``path`` holds: its marker, or the layout latchjax 0.1 wrote; None if neither."""
    path = Path(path)
    marker = path / MARKER
    if marker.is_file():
        try:
            command = json.loads(marker.read_text()).get("command")
        except (OSError, ValueError, AttributeError):
            return None
        return command if command in OUTPUTS else None
    config = path / "config.json"
    if config.is_file():  # runs of latchjax 0.1, before the marker
        try:
            settings = json.loads(config.read_text())
        except (OSError, ValueError):
            return None
        if isinstance(settings, dict) and {"cells", "lengths", "plan"} <= set(settings):
            return "sweep"
        if isinstance(settings, dict) and {"w0_grid", "noise_grid"} <= set(settings):
            return "bengio"
        return None
    if (path / "surface.npz").is_file():
        return "landscape"
    if (path / "guess.csv").is_file() and (path / "summary.json").is_file():
        return "guess"
    return None


def enclosing_run(path: Path) -> Path | None:
    """The latchjax run ``path`` lies inside (a parent directory that is one), if any."""
    for parent in Path(path).resolve().parents:
        if owner(parent) is not None:
            return parent
    return None


def check_writable(path: Path, flag: str = "--out") -> None:
    """One line for an output path latchjax cannot create or write: empty, a file, under a file, not writable."""
    if str(path) in ("", "."):
        raise RunDirError(f"{flag}: give a directory (an empty path would write into the current directory)")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{flag}: {path} is a file, not a directory")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise RunDirError(f"{flag}: {path} lies under {existing}, which is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunDirError(f"{flag}: {existing} is not writable")


def check_replaceable(path: Path, command: str, force: bool, hint: str = "") -> list[str]:
    """Refuse, with one line and before anything is written, an output directory ``command`` may not write into;
    returns the files of the run it will replace (empty for a new or empty directory).

    A non-empty directory needs ``force``, must be a run of ``command`` and hold only files ``command`` writes.
    A directory inside another latchjax run is refused too."""
    check_writable(path)
    path = Path(path)
    inside = enclosing_run(path)
    if inside is not None:
        raise RunDirError(f"--out: {path} lies inside the latchjax {owner(inside)} run {inside}; "
                          "choose a directory outside it")
    files = [f for f in _files(path) if f != ".lock"] if path.is_dir() else []
    if not files:
        return []
    if not force:
        raise RunDirError(f"--out: {path} exists and is not empty; pass --force to replace it{hint}")
    found = owner(path)
    if found is None:
        raise RunDirError(f"--out: {path} is not a latchjax run (e.g. {files[0]}); --force only replaces a "
                          "directory latchjax wrote, so it is left as it is")
    if found != command:
        raise RunDirError(f"--out: {path} holds a latchjax {found} run; --force of {command} does not replace it")
    foreign = [f for f in files if not written_by(command, f)]
    if foreign:
        raise RunDirError(f"--out: {path} holds files latchjax did not write ({', '.join(foreign[:3])}"
                          f"{', ...' if len(foreign) > 3 else ''}); --force would remove them, so nothing is touched")
    return files


def mark(path: Path, command: str) -> None:
    """Write ``DIR/.latchjax``: this directory is a latchjax run of ``command``."""
    atomic_write(Path(path) / MARKER, json.dumps({"latchjax": VERSION, "command": command}) + "\n")


def remove_outputs(path: Path, command: str, keep: tuple[str, ...] = ()) -> None:
    """Remove the files ``command`` wrote in ``path`` (and the directories they leave empty), but for its marker,
    its lock and the top-level entries in ``keep``; nothing else."""
    path = Path(path)
    for rel in _files(path):
        if rel in ALWAYS or rel.split("/")[0] in keep or not written_by(command, rel):
            continue
        target = path / rel
        if rel.endswith("/"):
            target.rmdir()
        else:
            target.unlink()
        prune_empty(target.parent, path)


def prune_empty(directory: Path, root: Path) -> None:
    """Remove ``directory`` and its parents up to (not including) ``root`` while they are empty."""
    directory, root = Path(directory), Path(root)
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def own_file(target: Path) -> str | None:
    """If ``target`` is a file a latchjax run wrote (``compare --csv RUN/results.csv``), the run's command."""
    target = Path(target).resolve()
    for run in (target.parent, *target.parent.parents):
        command = owner(run)
        if command is not None:
            rel = target.relative_to(run).as_posix()
            return command if written_by(command, rel) or rel in ALWAYS else None
    return None
