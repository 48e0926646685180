"""ETags of cases and If-Match on changes, so that integrators do not overwrite each other's work."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import request

from service.api.errors import ApiProblem


def etag_of(*parts: Any) -> str:
    """A strong ETag from the values that change whenever the case changes."""
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    return f'"{digest[:20]}"'


def check_if_match(current: str, *, required: bool) -> None:
    """412 when If-Match names another version of the case; 428 when it is missing and ``required``."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise ApiProblem(428, "precondition-required",
                             "Ange If-Match med ärendets ETag (hämta ärendet först).", fields={"If-Match": ["Saknas."]})
        return
    offered = {value.strip().removeprefix("W/") for value in header.split(",")}
    if "*" not in offered and current not in offered:
        raise ApiProblem(412, "precondition-failed", "Ärendet har ändrats sedan du hämtade det. Hämta det igen.",
                         headers={"ETag": current})
