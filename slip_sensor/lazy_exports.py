"""Package namespaces that import their public names on first access (PEP 562), so that importing a package, and
`slip --help`, does not load torch, transformers or the model code."""

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(
    package: str, modules: Mapping[str, Sequence[str]], on_first_access: Callable[[], None] | None = None
) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """`__all__`, `__getattr__` and `__dir__` of `package`, whose public names `modules` lists by the module (relative
    to `package`) that defines them. `on_first_access` runs before a name is first imported (e.g. registering the
    SLIP classes with transformers); each name is then cached on the package, so later accesses are plain lookups."""
    exports = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if on_first_access is not None:
            on_first_access()
        value = getattr(importlib.import_module(exports[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return list(exports), __getattr__, __dir__
