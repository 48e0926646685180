"""Browser assets installed from the npm registry by the set-up command, served by Flask (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from werkzeug.wrappers.response import Response

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Only these folders are served: the built files of the packages we use, nothing else of node_modules.
SERVED = (
    "bpmn-js/dist/",
    "bpmn-js-properties-panel/dist/",
    "bpmn-js-bpmnlint/dist/",
    "dmn-js/dist/assets/",
    "@bpmn-io/properties-panel/dist/",
    "htmx.org/dist/",
    "swagger-ui-dist/",
)

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/<path:filename>")
def asset(filename: str) -> Response:
    if not filename.startswith(SERVED) or ".." in filename.split("/"):
        abort(404)
    response = send_from_directory(NODE_MODULES, filename, max_age=86400)
    return response
