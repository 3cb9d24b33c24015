"""The interactive API docs (Swagger UI), served with its assets from the swagger-ui-bundle package."""
from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")

# Only this page: Swagger UI sets inline styles on its elements. Scripts stay 'self' only.
DOCS_CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "script-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"})


@bp.get("")
def page():
    return render_template("api/docs.html")


page.talisman_view_options = {"content_security_policy": DOCS_CSP}


@bp.get("/assets/<path:filename>")
def asset(filename: str):
    if filename not in ASSETS:
        from werkzeug.exceptions import NotFound
        raise NotFound()
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
