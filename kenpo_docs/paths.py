"""Where the project's resources live: templates, fonts, samples, rules data.

The design keeps ``templates/`` and ``fonts/`` beside the package (the repository root), so
staff can edit templates without touching code. ``KENPO_DOCS_HOME`` points elsewhere when
the package is installed away from the checkout.

Where the user's data goes (batches, uploads, the tracking database) is set once, by
``KENPO_DOCS_DATA`` or the config file, so ``track report`` works from any folder:
:func:`data_folder`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from kenpo_docs.errors import KenpoDocsError

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


#: The data folder when neither ``KENPO_DOCS_DATA`` nor the config file names one (relative
#: to the current folder, as before the setting existed).
DEFAULT_DATA = Path("output")
CONFIG_NAME = "config.toml"


def config_file() -> Path:
    """The user's settings file: ``KENPO_DOCS_CONFIG``, else
    ``$XDG_CONFIG_HOME/kenpo-docs/config.toml`` (``~/.config/kenpo-docs/config.toml``)."""
    env = os.environ.get("KENPO_DOCS_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "kenpo-docs" / CONFIG_NAME


def data_folder() -> Path:
    """The folder of uploads, batches and the tracking database, set once for every command.

    ``KENPO_DOCS_DATA`` if set; else ``data = "/path"`` in :func:`config_file` (``~`` expanded,
    a relative path taken from the config file's folder); else ``output`` in the current
    folder. ``merge --out`` defaults to ``<data>/merge``, every ``--db`` to
    ``<data>/tracking.sqlite`` (:func:`tracking_db`), ``serve --data`` to the folder itself.

    Raises:
        KenpoDocsError: the config file cannot be read, is not TOML, or its ``data`` is not
            a text (one line naming the file).
    """
    env = os.environ.get("KENPO_DOCS_DATA")
    if env:
        return Path(env).expanduser()
    path = config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return DEFAULT_DATA
    except OSError as exc:
        raise KenpoDocsError(f"設定ファイルを読めません (cannot read the config file): "
                             f"{exc.strerror or exc}", file=str(path)) from exc
    try:
        settings = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KenpoDocsError(f"設定ファイルが TOML として読めません (not TOML): {exc}",
                             file=str(path)) from exc
    unknown = sorted(set(settings) - {"data"})
    if unknown:
        raise KenpoDocsError(f"設定ファイルに知らない項目があります (unknown settings): "
                             f"{', '.join(unknown)} (known: data)", file=str(path))
    data = settings.get("data")
    if data is None:
        return DEFAULT_DATA
    if not isinstance(data, str) or not data.strip():
        raise KenpoDocsError('設定ファイルの data はフォルダのパスを文字列で書いてください '
                             '(data = "/path/to/folder")', file=str(path))
    folder = Path(data).expanduser()
    return folder if folder.is_absolute() else path.parent / folder


def tracking_db() -> Path:
    """The tracking database in the data folder (the default of every ``--db``)."""
    return data_folder() / "tracking.sqlite"
