"""How a run's files encode what is not plain weights: optimizer state as flat safetensors plus a JSON
structure, and the curves as CSV. Standard library and torch only, so training and resuming need
neither pandas nor Pillow (genlib.runs reads metrics.csv into a table only for the pages).
"""
from __future__ import annotations

import csv
from pathlib import Path

import torch


def plain_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses shared storage; a contiguous copy per entry is always safe.
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def flatten_optimizers(states: dict[str, dict]) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state_dicts → (tensors for safetensors, JSON structure with tensor names)."""
    tensors, structure = {}, {}
    for name, sd in states.items():
        entries = {}
        for idx, pstate in sd["state"].items():
            entry = {}
            for key, value in pstate.items():
                if torch.is_tensor(value):
                    tname = f"opt/{name}/{idx}/{key}"
                    tensors[tname] = value.detach().cpu().contiguous().clone()
                    entry[key] = {"tensor": tname}
                else:
                    entry[key] = {"value": value}
            entries[str(idx)] = entry
        structure[name] = {"state": entries, "param_groups": sd["param_groups"]}
    return tensors, structure


def unflatten_optimizers(tensors: dict[str, torch.Tensor], structure: dict) -> dict[str, dict]:
    states = {}
    for name, sd in structure.items():
        state = {}
        for idx, entry in sd["state"].items():
            state[int(idx)] = {k: tensors[v["tensor"]] if "tensor" in v else v["value"]
                               for k, v in entry.items()}
        states[name] = {"state": state, "param_groups": sd["param_groups"]}
    return states


def write_history(path: Path, history: list[dict]) -> None:
    """The curves as CSV: one row per logged step, a column per metric (empty where a row lacks it)."""
    columns = list(dict.fromkeys(k for row in history for k in row))
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, columns, restval="")
        out.writeheader()
        out.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in history)


def read_history(path: Path) -> list[dict]:
    """`write_history` read back: numbers as floats ("step" as an int), empty cells left out."""
    if not path.exists():
        return []
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                rows.append({k: int(float(v)) if k == "step" else float(v) for k, v in row.items()
                             if k and v not in ("", None)})
            except ValueError:
                continue                # a damaged line: the curve misses a point, the run resumes
    return rows
