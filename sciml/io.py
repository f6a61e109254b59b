"""Safe file I/O shared by every part of sciml: atomic writes and code-free, checked reads.

Every file sciml reads may have been sent by someone else (a checkpoint, a model, a data set,
an observation file), so reading one must never run code and must fail with a message that
names the file and the field:

* :func:`atomic_save` writes ``torch.save`` output to a temporary file beside the target and
  renames it into place (``os.replace``): a killed process never leaves a half-written file at
  the final path, and a full disk gives a clear :class:`OSError` with the path;
* :func:`safe_torch_load` reads with ``torch.load(..., weights_only=True)``: only tensors and
  plain Python containers/numbers/strings are unpickled, so a crafted pickle whose
  ``__reduce__`` calls ``os.system`` is refused with a :class:`FileFormatError`;
* :func:`check_fields` validates a loaded dict against a small schema.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.pt"
>>> _ = atomic_save({"a": torch.ones(2)}, p)
>>> check_fields(safe_torch_load(p), {"a": torch.Tensor}, path=p)["a"].tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import io
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "FileFormatError",
    "atomic_save",
    "safe_torch_load",
    "check_fields",
    "check_out_path",
    "check_out_dir",
    "read_json",
    "available_memory",
    "check_memory",
    "MODEL_FORMAT",
    "model_file_payload",
    "read_model_file",
    "load_model_file",
]

#: the one format of every saved model (operators, DCDM, traversal models, VAEs)
MODEL_FORMAT = "sciml-model-v2"
_OLD_MODEL_FORMAT = "sciml-model-v1"


class FileFormatError(ValueError):
    """A file exists but is not what sciml expected (wrong format, unsafe, or a bad field)."""


def check_out_path(
    path: str | Path, *, overwrite: bool = False, what: str = "--out", suffix: str | None = None
) -> Path:
    """Check, before any work is done, that ``path`` can be written: the ONE output-file
    policy of every command (nothing is replaced without ``--overwrite``).

    ``suffix``: the suffix the writer adds when it is missing (``np.save`` adds ``.npy``), added
    here first so that the file checked is the file written. Raises ``FileExistsError`` when
    it exists and ``overwrite`` is False, ``ValueError`` when it or its folder is a folder/file
    the other way round, and ``PermissionError`` when the folder is not writable. Returns the
    path that will be written.
    """
    path = Path(path)
    if suffix is not None and path.suffix != suffix:
        path = path.with_name(path.name + suffix)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder, expected a file path")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{what} {str(path)!r} exists; pass --overwrite to replace it")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what} {str(path)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {str(path)!r}: folder {str(parent)!r} is not writable")
    return path


def check_out_dir(path: str | Path, *, what: str = "--out") -> Path:
    """Check, before any work is done, that the folder ``path`` can be created or written into.

    Raises ``ValueError`` when ``path`` (or a parent) is a file and ``PermissionError`` when the
    folder (or the nearest existing parent) is not writable. Returns ``path``; creates nothing.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a file, expected a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what} {str(path)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {str(path)!r}: folder {str(parent)!r} is not writable")
    return path


def available_memory() -> int:
    """Bytes of memory a new allocation can get (``MemAvailable`` of ``/proc/meminfo``; the
    physical memory where that is missing)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _size(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1024 or unit == "PB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} PB"


def check_memory(nbytes: float, what: str) -> None:
    """Refuse, before any work, a job whose estimated memory ``nbytes`` exceeds what this
    machine has available: ``ValueError`` naming ``what`` and both numbers.

    >>> check_memory(1024, "a tiny array")
    >>> try:
    ...     check_memory(1e30, "--n 1e10")
    ... except ValueError as e:
    ...     print(str(e).split(",")[0])
    --n 1e10 needs about 8.88e+14 PB of memory
    """
    avail = available_memory()
    if nbytes > avail:
        raise ValueError(
            f"{what} needs about {_size(nbytes)} of memory, more than the {_size(avail)} "
            "available on this machine; choose a smaller size"
        )


#: the deepest nesting sciml reads in a JSON file (configs and observation files are flat)
MAX_JSON_DEPTH = 32


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of lists/dicts in ``obj`` (a scalar 0, ``[1, 2]`` 1); stops counting once
    past ``limit`` (breadth first: no recursion, whatever the input)."""
    depth, level = 0, [obj]
    while depth <= limit:
        nxt = []
        for o in level:
            if isinstance(o, dict):
                nxt.extend(o.values())
            elif isinstance(o, list):
                nxt.extend(o)
        if len(nxt) == 0 and not any(isinstance(o, (dict, list)) for o in level):
            break
        depth += 1
        level = nxt
    return depth


def read_json(path: str | Path, *, what: str = "file") -> Any:
    """Read a JSON file; a missing or malformed file gets one line naming it (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        obj = json.loads(path.read_text())
    except UnicodeDecodeError:
        raise FileFormatError(f"{what} {str(path)!r} is not a text (JSON) file") from None
    except RecursionError:
        raise FileFormatError(
            f"{what} {str(path)!r} is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        ) from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{what} {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if _depth(obj, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise FileFormatError(
            f"{what} {str(path)!r} is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        )
    return obj


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (temporary file + rename); returns ``path``.

    The bytes are serialised in memory first and written with plain file I/O + ``fsync``, so a
    full disk raises ``OSError(ENOSPC)`` naming ``path`` (``torch.save`` straight to a file
    reports it as an opaque ``RuntimeError``), and neither ``path`` nor a temporary file is
    left behind.
    """
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buffer.getbuffer())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, f"could not write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def safe_torch_load(
    path: str | Path, *, what: str = "file", map_location: str | torch.device = "cpu"
) -> Any:
    """Load a ``torch.save`` file without running code (``weights_only=True``).

    Raises ``FileNotFoundError`` for a missing path and :class:`FileFormatError` (naming the
    file and ``what`` it should have been) for anything that is not a torch file made of
    tensors and plain containers -- including pickles that would run code.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise FileFormatError(f"{what} {str(path)!r} is not a file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        reason = next((ln.strip() for ln in text.splitlines() if "GLOBAL" in ln), None)
        if reason is None:  # not a pickle of allowed types at all (text, truncated, ...)
            raise FileFormatError(
                f"{what} {str(path)!r} is not a readable torch file (not a torch.save pickle)"
            ) from None
        raise FileFormatError(
            f"{what} {str(path)!r} was refused: it contains Python objects that would run code "
            f"when loaded ({reason}); sciml only loads tensors and plain data "
            "(torch.load weights_only=True)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a file that is not
        # its own (text, truncated, random bytes); with weights_only=True none of them ran code
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, (RuntimeError, OSError)):  # a parser's internals, not a reason
            msg = "not a torch.save file"
        raise FileFormatError(
            f"{what} {str(path)!r} is not a readable torch file ({msg[:160]})"
        ) from None


def check_fields(
    obj: Any, schema: Mapping[str, type | tuple[type, ...]], *, path: str | Path, what: str = "file"
) -> Any:
    """Check that ``obj`` is a dict holding each ``schema`` key with a value of its type(s).

    Returns ``obj``; raises :class:`FileFormatError` naming the file and the first bad field.
    """
    if not isinstance(obj, dict):
        raise FileFormatError(
            f"{what} {str(path)!r}: expected a dict at the top level, got {type(obj).__name__}"
        )
    for key, types in schema.items():
        if key not in obj:
            raise FileFormatError(f"{what} {str(path)!r}: missing field {key!r}")
        if not isinstance(obj[key], types):
            names = (
                " or ".join(t.__name__ for t in types)
                if isinstance(types, tuple)
                else types.__name__
            )
            raise FileFormatError(
                f"{what} {str(path)!r}: field {key!r} must be {names}, "
                f"got {type(obj[key]).__name__}"
            )
    return obj


def model_file_payload(
    spec: dict,
    state_dict: dict[str, Any],
    *,
    normalizers: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The ``sciml-model-v2`` dict: ``spec``, CPU float weights, normalisers, ``extra``."""
    if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)):
        raise ValueError(f"spec must be a dict with a 'name', got {spec!r}")
    return {
        "format": MODEL_FORMAT,
        "spec": {"name": spec["name"], "kwargs": dict(spec.get("kwargs", {}))},
        "normalizers": normalizers,
        "state_dict": {
            k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state_dict.items()
        },
        "extra": dict(extra or {}),
    }


def read_model_file(
    path: str | Path,
    *,
    names: tuple[str, ...] | None = None,
    map_location: str | torch.device = "cpu",
) -> dict:
    """Read and check a saved model file; ``names``: the model names the caller can build."""
    payload = safe_torch_load(path, what="model file", map_location=map_location)
    if isinstance(payload, dict) and payload.get("format") == _OLD_MODEL_FORMAT:
        payload = {  # v1: normalisers stored as two top-level keys, always wrapped
            **payload,
            "normalizers": {"x": payload.get("x_norm"), "y": payload.get("y_norm")},
        }
    else:
        check_fields(payload, {"format": str}, path=path, what="model file")
        if payload["format"] != MODEL_FORMAT:
            raise FileFormatError(
                f"model file {str(path)!r} has format {payload['format']!r}, expected "
                f"{MODEL_FORMAT!r}"
            )
    check_fields(
        payload,
        {"spec": dict, "state_dict": dict, "extra": dict, "normalizers": (dict, type(None))},
        path=path,
        what="model file",
    )
    spec = payload["spec"]
    if not isinstance(spec.get("name"), str) or not isinstance(spec.get("kwargs", {}), dict):
        raise FileFormatError(
            f"model file {str(path)!r}: field 'spec' must hold a 'name' string and 'kwargs' dict"
        )
    if names is not None and spec["name"] not in names:
        raise FileFormatError(
            f"model file {str(path)!r} holds a {spec['name']!r} model; expected one of "
            f"{sorted(names)}"
        )
    bad = [k for k, v in payload["state_dict"].items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise FileFormatError(f"model file {str(path)!r}: state_dict entry {bad[0]!r} is no tensor")
    return payload


def load_model_file(
    path: str | Path,
    build: Callable[[dict], torch.nn.Module],
    *,
    names: tuple[str, ...] | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, dict]:
    """THE loader of every model file: read and check it, rebuild, load the weights.

    ``build(payload)`` is the family's builder: it gets the checked file (``spec``,
    ``normalizers``, ``extra``) and returns the module the weights belong to (operators:
    :func:`sciml.operators.load_operator`; DCDM: :func:`sciml.solvers.dcdm.load_dcdm`;
    traversals: :func:`sciml.traversal.model.load_traversal_model`). ``names``: the spec names
    this builder can build. Returns ``(module in eval mode on map_location, extra)``.

    Raises ``FileNotFoundError`` or :class:`FileFormatError` naming the file and what is wrong
    (a spec the builder refuses, weights that do not fit it); nothing in the file runs code.
    """
    payload = read_model_file(path, names=names)
    name = payload["spec"]["name"]
    try:
        model = build(payload)
    except FileFormatError:  # the builder's own complaint about the file, as it said it
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(
            f"model file {str(path)!r}: cannot build {name!r} from its spec ({exc})"
        ) from None
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise FileFormatError(
            f"model file {str(path)!r}: weights do not fit a {name!r} model built from its spec "
            f"({first[:160]})"
        ) from None
    return model.to(map_location).eval(), payload["extra"]
