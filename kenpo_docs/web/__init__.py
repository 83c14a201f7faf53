"""The staff web page (``kenpo-docs serve``): a thin shell over the library, like the CLI.

Server-rendered pages (FastAPI + Jinja2, htmx vendored as a static file), one router per
page in :mod:`kenpo_docs.web.routes`. The web layer parses a form, calls the same library
function as the CLI and renders the result; the merge itself runs in a separate runner
process (:mod:`kenpo_docs.web.runner`), never in the server's. Nothing in the library
imports this package.
"""
