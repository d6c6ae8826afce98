"""Backends by name: the registry the detector and the OCR each keep one of, and
the base class their backends share.

Each runtime lives in its own module (`detector_tflite`, `ocr_tflite`, ...)
and its backend class names itself; defining the class registers it.
`create(name, ...)` first imports the runtime modules the registry knows and
logs, rather than fails on, one that cannot be imported, so a missing
optional runtime never takes the others down.
"""

from __future__ import annotations

import importlib
import logging

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class Registry:
    def __init__(self, kind: str, modules: tuple[str, ...], error: type[AlprError], setting: str):
        self.kind, self.modules, self.error, self.setting = kind, modules, error, setting
        self.classes: dict[str, type] = {}

    def add(self, cls: type) -> None:
        # only a class that names itself: a subclass of a backend (a test's, a tool's) inherits
        # the name and would otherwise take the backend's place in the registry
        if cls.__dict__.get("name"):
            self.classes[cls.name] = cls

    def __contains__(self, name: str) -> bool:
        return name in self.classes

    def create(self, name: str, **options):
        for module in self.modules:
            try:
                importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001 - one broken runtime must not hide the others
                logger.warning("%s runtime %s not available: %s", self.kind, module, exc)
        cls = self.classes.get(name)
        if cls is None:
            known = ", ".join(sorted(self.classes)) or "none"
            raise self.error(f"unknown {self.kind} backend {name!r} (available: {known}); "
                             f"set {self.setting} in config.json")
        return cls(**options)


class Backend:
    """A detector's or an OCR's backend: defining a subclass that names itself registers it in
    its kind's `registry`; `describe()` says what it runs for the devices page."""

    name: str = ""
    registry: Registry
    # what a technician should put right (a model file that did not load, a pass that cannot
    # run); a backend appends to its own list
    problems: tuple[str, ...] | list[str] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.registry.add(cls)

    def describe(self) -> dict:
        """Its name and problems; a backend adds its files."""
        return {"backend": self.name, "problems": list(self.problems)}
