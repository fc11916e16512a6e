"""The review dashboard's stores for tests without servers: a tracker database made by
the review event generator, the review database, the read model over both, and users.
Test modules take them with `from tests.review_fixtures import ...` (pytest finds
fixtures imported into a module)."""

from __future__ import annotations

import pytest

from bot.review.auth import Users
from bot.review.db import ReviewDB
from bot.review.read_model import ReadModel
from bot.review.tracker import TrackerEvents
from deploy import review_events as ev

SECRET = "s" * 40


@pytest.fixture
def tracker_path(tmp_path):
    path = tmp_path / "tracker.db"
    ev.create_tracker(path)
    return path


@pytest.fixture
def db(tmp_path):
    review = ReviewDB(f"sqlite:///{tmp_path / 'review.db'}")
    yield review
    review.close()


@pytest.fixture
def model(db, tracker_path):
    tracker = TrackerEvents(f"sqlite:///file:{tracker_path}?mode=ro&uri=true")
    yield ReadModel(db, tracker)
    tracker.close()


@pytest.fixture
def users(db):
    return Users(db, SECRET)
