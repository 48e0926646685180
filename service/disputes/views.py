"""Pages of disputes."""

from flask import Blueprint

bp = Blueprint("disputes", __name__, template_folder="templates")
