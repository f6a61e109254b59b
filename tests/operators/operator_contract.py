"""The operator contract for this repository's tests: :mod:`sciml.testing.operators` with the
golden files of ``tests/operators/golden`` (kept so that ``from operator_contract import
OperatorContract`` in the operator test modules keeps working)."""

from __future__ import annotations

from pathlib import Path

from sciml.testing.operators import OperatorContract as _OperatorContract
from sciml.testing.operators import (
    fresh_process_outputs,
    run_fresh_process_jobs,
    smooth_field,
)

__all__ = ["GOLDEN", "OperatorContract", "fresh_process_outputs", "run_fresh_process_jobs"]
__all__ += ["smooth_field"]

GOLDEN = Path(__file__).parent / "golden"


class OperatorContract(_OperatorContract):
    """:class:`sciml.testing.operators.OperatorContract` reading ``tests/operators/golden``."""

    golden_dir = GOLDEN
