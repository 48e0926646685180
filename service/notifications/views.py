"""The person's notifications in the web inbox: every notification is listed here, e-mailed or not."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from service.errors import NotPermitted
from service.extensions import db
from service.notifications.models import Notification
from service.notifications.operations import list_notifications_for, mark_read

bp = Blueprint("notifications", __name__)


@bp.get("/aviseringar")
@login_required
def my_notifications() -> str:
    """List my notifications, newest first."""
    return render_template("notifications/list.html", notifications=list_notifications_for(current_user))


@bp.post("/aviseringar/<int:notification_id>/last")
@login_required
def read(notification_id: int) -> BaseResponse:
    """Mark one of my notifications as read."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        abort(404)
    try:
        mark_read(notification, current_user)
    except NotPermitted:
        abort(404)  # not 403: do not reveal that somebody else's notification exists
    db.session.commit()
    return redirect(url_for("notifications.my_notifications"))
