"""One module per page, each exporting ``router`` (an :class:`fastapi.APIRouter`) and, for
the menu, ``MENU = (path, label, role or None)``; :data:`kenpo_docs.web.app.ROUTERS` lists
them."""
