"""Resumable, atomic, parallel generation of a recipe's data set.

Work is cut into fixed batches of ``recipe.batch_size`` consecutive sample indices.
Batches run in this process, in ``workers`` spawned processes, or across MPI ranks
(``mpirun -n K sciml data generate ...``: rank r computes batches r, r + K, ...; rank 0
writes). The file is ``<out>.partial`` until every sample is done; rerunning the same
command after a kill or Ctrl-C continues from the finished samples.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
from tqdm.auto import tqdm

from sciml._process import guarded_call
from sciml.datasets import storage
from sciml.datasets.recipe import SampleBatch, sample_seeds
from sciml.datasets.recipes import get_recipe
from sciml.io import FileFormatError, check_memory

if TYPE_CHECKING:
    from mpi4py import MPI

__all__ = ["generate", "mpi_world"]


def mpi_rank() -> int:
    """This process's rank under mpirun (0 otherwise), from the launcher's environment."""
    return int(os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))


def mpi_world() -> MPI.Intracomm | None:
    """``MPI.COMM_WORLD`` when launched by mpirun with more than one rank, else ``None``."""
    size = int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1")))
    if size <= 1:
        return None
    import dolfinx_solver  # noqa: F401  (orders MPI first)

    # importing dolfinx initialises PETSc, a collective call: every rank does it here,
    # before any rank-0-only work could import it out of step with the others
    import dolfinx  # noqa: F401

    # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
    from mpi4py import MPI

    return MPI.COMM_WORLD


# ------------------------------------------------------------- worker processes
_WORKER = None


def _init_worker(name: str, params: dict) -> None:
    """Pool initializer (called through :func:`sciml._process.guarded_call`, which makes the
    worker die with its parent before this heavy import runs)."""
    global _WORKER
    recipe = get_recipe(name)
    _WORKER = recipe.worker(recipe.params(params))


def _run_batch(indices: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, SampleBatch]:
    return indices, _WORKER(seeds)


def _progress(total: int, initial: int, desc: str, enabled: bool):
    pass

    return tqdm(
        total=total, initial=initial, desc=desc, unit="sample", disable=not enabled,
        dynamic_ncols=True, smoothing=0.1,
    )  # fmt: skip


def generate(
    recipe: str,
    n: int,
    out: str | Path,
    *,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    max_batches: int | None = None,
) -> Path:
    """Generate ``n`` samples of ``recipe`` into the HDF5 file ``out``.

    Args:
        recipe: a registered recipe name (``sciml data list`` shows them).
        n: number of samples (> 0).
        out: output path; ``<out>.partial`` holds the work in progress.
        params: recipe parameter overrides (e.g. ``{"resolution": 85}``).
        seed: base seed; sample ``i`` uses ``sample_seeds(seed, i)``.
        workers: worker processes (ignored under MPI, where ranks are the workers).
        overwrite: replace an existing file or a partial file made with other settings.
        max_batches: stop after this many batches (leaves a resumable partial file;
            used by tests to simulate a killed run).

    Returns:
        The path of the complete file.
    """
    rec = get_recipe(recipe)
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    p = rec.params(params)
    grid_text = "x".join(map(str, rec.grid(p).shape))
    check_memory(  # before the disk is touched: a size this machine cannot hold is one line
        rec.memory_estimate(p, int(n), workers=workers),
        f"{recipe} with n={n} on a {grid_text} grid",
    )
    pdict = dataclasses.asdict(p)
    out = Path(out)
    partial = storage.partial_path(out)
    comm = mpi_world()
    rank = comm.rank if comm is not None else 0

    # ---- rank 0 decides what is left to do (and owns the file)
    f = None
    todo = None
    error = None
    created = False
    if rank == 0:
        try:
            f, todo, created = _open_for_writing(rec, p, pdict, n, seed, out, partial, overwrite)
        except (ValueError, FileNotFoundError, PermissionError, OSError) as exc:
            error = exc
    if comm is not None:
        error = comm.bcast(error, root=0)
        todo = comm.bcast(todo, root=0)
    if error is not None:
        raise error
    if todo is None:  # already complete
        return out

    bs = rec.batch_size
    seeds = sample_seeds(seed, n)
    batches = [
        b for b in (np.arange(s, min(s + bs, n)) for s in range(0, n, bs)) if np.isin(b, todo).any()
    ]
    if max_batches is not None:
        batches = batches[:max_batches]
    done0 = n - len(todo)
    desc = f"{recipe} (resumed at {done0}/{n})" if done0 else recipe
    bar = _progress(n, done0, desc, progress and rank == 0)
    try:
        if comm is not None:
            _run_mpi(comm, rec, p, batches, seeds, f, bar)
        elif workers > 1:
            with ProcessPoolExecutor(
                workers,
                mp_context=_spawn(),
                initializer=guarded_call,
                initargs=(os.getpid(), f"{__name__}:_init_worker", rec.name, pdict),
            ) as pool:
                futures = [pool.submit(_run_batch, b, seeds[b]) for b in batches]
                for fut in _as_completed(futures):
                    idx, batch = fut.result()
                    storage.write_batch(f, idx, batch)
                    bar.update(len(idx))
        else:
            work = rec.worker(p)
            for b in batches:
                storage.write_batch(f, b, work(seeds[b]))
                bar.update(len(b))
    except BaseException:
        if f is not None:
            # everything written so far is flushed; rerun to resume. A partial file this run
            # created and finished nothing in is removed, so that a corrected command (other
            # parameters) is not refused because of it.
            try:
                nothing_done = created and not f["done"][...].any()
                f.close()
            except OSError:  # the file cannot be read or flushed any more: keep it as it is
                nothing_done = False
            if nothing_done:
                partial.unlink(missing_ok=True)
        bar.close()
        raise
    bar.close()
    if rank == 0:
        if f["done"][...].all():
            storage.finalize(f, partial, out)
            return out
        f.close()
        return partial
    return out


def _spawn():
    pass

    return multiprocessing.get_context("spawn")


def _as_completed(futures) -> Iterator:
    pass

    return as_completed(futures)


def _run_mpi(comm, rec, p, batches, seeds, f, bar) -> None:
    size, rank = comm.size, comm.rank
    work = rec.worker(p)
    for start in range(0, len(batches), size):
        mine = batches[start + rank] if start + rank < len(batches) else None
        result = (mine, work(seeds[mine])) if mine is not None else None
        results = comm.gather(result, root=0)
        if rank == 0:
            for item in results:
                if item is not None:
                    storage.write_batch(f, item[0], item[1])
                    bar.update(len(item[0]))
        comm.Barrier()


def _open_for_writing(rec, p, pdict, n, seed, out: Path, partial: Path, overwrite: bool):
    """Return ``(file, todo_indices, created)``, or ``(None, None, False)`` when ``out`` is
    already complete; ``created``: this call made a new partial file."""
    if out.is_dir():
        raise ValueError(f"out: {str(out)!r} is a folder, expected a file path (e.g. data.h5)")
    if not out.parent.exists():
        raise FileNotFoundError(f"out: folder {out.parent} does not exist")
    if not out.parent.is_dir():
        raise ValueError(f"out: {str(out.parent)!r} is a file, not a folder")
    if not os.access(out.parent, os.W_OK):
        raise PermissionError(f"out: folder {out.parent} is not writable")
    if out.exists() and not overwrite:
        with _open_existing(out) as existing:
            storage.check_matches(existing, out, recipe=rec, params=pdict, n=n, base_seed=seed)
        return None, None, False
    if partial.exists() and not overwrite:
        f = _open_existing(partial, "a")
        try:
            storage.check_matches(f, partial, recipe=rec, params=pdict, n=n, base_seed=seed)
        except ValueError:
            f.close()
            raise
        todo = np.flatnonzero(~f["done"][...])  # the bar starts at the samples already done
        return f, todo, False
    seeds = sample_seeds(seed, n)
    storage.ensure_space(partial, 0)  # room for the empty file and its metadata
    tmp = partial.with_name(partial.name + f".{os.getpid()}.{time.time_ns()}")
    f = storage.create(
        tmp, recipe=rec, params=pdict, n=n, base_seed=seed, seeds=seeds,
        grid=rec.grid(p), shapes=rec.shapes(p),
    )  # fmt: skip
    f.close()
    os.replace(tmp, partial)
    if out.exists():  # overwrite: the old complete file goes only now
        out.unlink()
    return h5py.File(partial, "a"), np.arange(n), True


def _open_existing(path: Path, mode: str = "r") -> h5py.File:
    try:
        f = h5py.File(path, mode)
        try:
            storage.check_self_contained(f, str(path))
        except FileFormatError:
            f.close()
            raise
        return f
    except OSError as exc:
        if "unable to lock file" in str(exc):
            raise ValueError(
                f"out: {path} is in use by another process (is another `sciml data generate` "
                "for it still running? let it finish or stop it first)"
            ) from None
        raise ValueError(
            f"out: {path} exists but is not a readable HDF5 file ({exc}); it is left untouched"
        ) from None
