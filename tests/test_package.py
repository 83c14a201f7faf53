"""The package's shape: one public API, a library that never needs click."""

from __future__ import annotations

import subprocess
import sys

import kenpo_docs


def test_library_does_not_import_click() -> None:
    code = (
        "import sys, kenpo_docs, importlib, pkgutil\n"
        "for m in pkgutil.iter_modules(kenpo_docs.__path__):\n"
        "    if m.name not in ('cli', '__main__', 'demo'):\n"
        "        importlib.import_module('kenpo_docs.' + m.name)\n"
        "print('click' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_is_declared() -> None:
    for name in kenpo_docs.__all__:
        assert hasattr(kenpo_docs, name), name
    assert issubclass(kenpo_docs.DateError, ValueError)
    assert issubclass(kenpo_docs.TemplateError, LookupError)
    for name in kenpo_docs.__all__:
        obj = getattr(kenpo_docs, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, kenpo_docs.KenpoDocsError)
