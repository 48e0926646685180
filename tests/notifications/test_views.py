"""The notification list in the web inbox: only my own, unread highlighted, marked read with CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from service.notifications.models import Notification, NotificationKind
from service.notifications.operations import notify, notify_task_offered
from service.parties.models import Role
from service.transactions import commit_with_retry
from tests.conftest import csrf_token, login


def test_list_shows_only_my_notifications(client: FlaskClient, db: Any, make_organisation: Callable[..., Any],
                                          make_user: Callable[..., Any], make_task: Callable[..., Any]) -> None:
    kommun = make_organisation()
    anna, bo = make_user([(kommun, Role.MANAGER)], username="anna"), make_user(username="bo")
    task = make_task(kommun, Role.MANAGER, name="Besluta om avtalet")
    commit_with_retry(lambda: notify_task_offered(task))
    commit_with_retry(lambda: notify([bo], NotificationKind.OTHER, "Bos hemliga avisering", "Text"))

    login(client, anna.username)
    page = client.get("/aviseringar").get_data(as_text=True)

    assert "Ny uppgift: Besluta om avtalet" in page
    assert f'href="/uppgifter/{task.id}"' in page
    assert "Bos hemliga avisering" not in page
    assert re.search(r'class="unread"', page) and "Oläst" in page


def test_mark_my_notification_read(client: FlaskClient, db: Any, make_user: Callable[..., Any]) -> None:
    anna = make_user(username="anna")
    [row] = commit_with_retry(lambda: notify([anna], NotificationKind.OTHER, "Avtalet gäller", "Text"))
    login(client, "anna")
    token = csrf_token(client.get("/aviseringar").get_data(as_text=True))

    response = client.post(f"/aviseringar/{row.id}/last", data={"csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"].endswith("/aviseringar")
    assert db.session.get(Notification, row.id).read_at is not None
    page = client.get("/aviseringar").get_data(as_text=True)
    assert 'class="read"' in page and "Markera som läst" not in page


def test_marking_someone_elses_notification_is_not_found(client: FlaskClient, db: Any,
                                                         make_user: Callable[..., Any]) -> None:
    make_user(username="anna")
    bo = make_user(username="bo")
    [row] = commit_with_retry(lambda: notify([bo], NotificationKind.OTHER, "Till Bo", "Text"))
    login(client, "anna")
    token = csrf_token(client.get("/aviseringar").get_data(as_text=True))

    assert client.post(f"/aviseringar/{row.id}/last", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/aviseringar/{row.id + 100}/last", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is None


def test_marking_read_needs_the_csrf_token(client: FlaskClient, db: Any, make_user: Callable[..., Any]) -> None:
    anna = make_user(username="anna")
    [row] = commit_with_retry(lambda: notify([anna], NotificationKind.OTHER, "Hej", "Text"))
    login(client, "anna")
    assert client.post(f"/aviseringar/{row.id}/last").status_code == 400


def test_list_needs_login(client: FlaskClient, db: Any) -> None:
    response = client.get("/aviseringar")
    assert response.status_code == 302 and "/logga-in" in response.headers["Location"]


def test_empty_list(client: FlaskClient, db: Any, make_user: Callable[..., Any]) -> None:
    make_user(username="anna")
    login(client, "anna")
    assert "Du har inga aviseringar." in client.get("/aviseringar").get_data(as_text=True)
