"""Where the project's resources live: templates, fonts, samples, rules data.

The design keeps ``templates/`` and ``fonts/`` beside the package (the repository root), so
staff can edit templates without touching code. ``KENPO_DOCS_HOME`` points elsewhere when
the package is installed away from the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def home() -> Path:
    """The folder that holds ``templates/`` and ``fonts/``."""
    env = os.environ.get("KENPO_DOCS_HOME")
    return Path(env).resolve() if env else PACKAGE_DIR.parent


def templates_dir() -> Path:
    return home() / "templates"


def fonts_dir() -> Path:
    return home() / "fonts"


def samples_dir() -> Path:
    return home() / "samples"


def data_dir() -> Path:
    """Data files shipped inside the package (rules, envelope profiles, rate tables)."""
    return PACKAGE_DIR / "data"


def default_data_dir() -> Path:
    """The data folder when none is given (``serve --data``, ``user add --data``): uploads,
    batches and the tracking database live there. ``output/``, relative to where the command
    runs, as the CLI's other defaults (``output/tracking.sqlite``)."""
    return Path("output")
