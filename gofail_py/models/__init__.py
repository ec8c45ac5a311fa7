"""The models a history is checked against: `kv` (etcd), `register`, or your own (docs/check.md).

It offers the checker and the history reader a Model (initial state, step, split into parts,
describe a state) by name. A model knows only the Operation it steps through.

Must not import: gofail_py.check, gofail_py.history,
    gofail_py.client, gofail_py.processes, gofail_py.recording, gofail_py.report,
    gofail_py.scenario, gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.traffic,
    gofail_py.rewriter
"""

from __future__ import annotations

from importlib import import_module

from gofail_py.errors import ModelError
from gofail_py.models.base import Model

# name -> (module, class): loaded on first use
BUILTIN = {"kv": ("gofail_py.models.kv", "KvModel"), "register": ("gofail_py.models.register", "RegisterModel")}

__all__ = ["BUILTIN", "Model", "get_model"]


def get_model(model: str | Model) -> Model:
    """A built-in model by name, or the given model object after a check that it has the protocol's methods."""
    if isinstance(model, str):
        if model not in BUILTIN:
            raise ModelError(f"unknown model {model!r}: expected one of {', '.join(sorted(BUILTIN))} (or a Model object)")
        module, name = BUILTIN[model]
        made: Model = getattr(import_module(module), name)()
        return made
    missing = [name for name in ("init", "step", "validate", "partition", "describe_state", "changes")
               if not callable(getattr(model, name, None))]
    if missing or not isinstance(getattr(model, "name", None), str):
        raise ModelError(f"{model!r} is not a model: it lacks {', '.join(missing) or 'a name'} "
                         "(subclass gofail_py.models.Model)")
    return model
