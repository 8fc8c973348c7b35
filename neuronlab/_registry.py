"""Look-up by name, shared by the families a user picks by name.

``nl.activations.get("relu")``, ``nl.losses.get("mse")``, ``nl.optim.get("adam")`` and
``nl.init.get("he_normal")`` each keep a :class:`Registry` of their names, so that all four
accept the same kinds of argument and fail with the same kinds of message, each naming
its family::

    unknown loss 'hinge'; available: binary_cross_entropy, cross_entropy, ...
    name must be a string or an Activation, got int
    params can only be given with an optimizer name
    relu: ReLU() takes no arguments (given: alpha)
"""
from __future__ import annotations

from typing import Any


class Registry:
    """The names (and aliases) of one family, each naming a class or a function.

    Parameters
    ----------
    kind : str
        The family as messages name it: "activation", "loss", "optimizer", "initializer".
    accepts : str
        What may be looked up, as the TypeError says it: "a string or an Activation".
    arg : str
        The argument that TypeError names: "name", or "optimizer" / "init" where the
        caller's keyword is called that.
    base : type, optional
        Instances of `base` pass through :meth:`get` unchanged.
    fold_case : bool
        Look names up in lower case ("Adam" finds "adam").
    name_errors : bool
        A TypeError from the constructor is raised again starting with the name looked
        up ("relu: ..."): Python's own message ("ReLU() takes no arguments") does not say
        which of several objects being built it was about.
    """

    def __init__(self, kind: str, accepts: str, *, arg: str = "name", base: type | None = None,
                 fold_case: bool = False, name_errors: bool = True):
        self.kind, self.accepts, self.arg, self.base = kind, accepts, arg, base
        self.fold_case, self.name_errors = fold_case, name_errors
        self._entries: dict[str, Any] = {}
        self._aliases: dict[str, str] = {}

    def register(self, obj: Any, *aliases: str, name: str | None = None) -> Any:
        """Add `obj` under `name` (by default ``obj.name``) and under each of `aliases`."""
        name = obj.name if name is None else name
        self._entries[name] = obj
        for alias in aliases:
            self._aliases[alias] = name
        return obj

    def unregister(self, name: str) -> None:
        """Forget `name` and its aliases (a ValueError if it is not registered)."""
        self.lookup(name)
        key = self._aliases.get(name, name)
        del self._entries[key]
        self._aliases = {a: n for a, n in self._aliases.items() if n != key}

    def available(self) -> list[str]:
        """Every registered name (aliases not repeated), sorted."""
        return sorted(self._entries)

    def lookup(self, name: Any) -> Any:
        """The class or function registered as `name` (or as an alias of it)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.arg} must be {self.accepts}, got {type(name).__name__}")
        key = name.lower() if self.fold_case else name
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; available: {', '.join(self.available())}")
        return self._entries[key]

    def get(self, name: Any, **params: Any) -> Any:
        """``lookup(name)(**params)``; an instance of `base` passes through (with no params)."""
        if self.base is not None and isinstance(name, self.base):
            if params:
                article = "an" if self.kind[0] in "aeiou" else "a"
                raise TypeError(f"params can only be given with {article} {self.kind} name")
            return name
        cls = self.lookup(name)
        if not self.name_errors:
            return cls(**params)
        try:
            return cls(**params)
        except TypeError as exc:
            # Name the params that the message leaves out: "takes no arguments" names none.
            given = [k for k in params if k not in str(exc)]
            hint = f" (given: {', '.join(given)})" if given else ""
            raise TypeError(f"{name}: {exc}{hint}") from None
