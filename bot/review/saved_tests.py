"""Where the dashboard's "Save as test" keeps a founder's conversation as a Rasa test
story: one file per conversation, written by the dashboard and removed with the
founder's data ("delete my data"), since it holds the founder's words."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stories_dir() -> Path:
    """REVIEW_TEST_STORIES, else the project's tests/stories/ (what `rasa test` reads)."""
    return Path(os.environ.get("REVIEW_TEST_STORIES") or ROOT / "tests" / "stories")


def story_name(sender_id: str) -> str:
    """test_*: the only files `rasa test --e2e` reads. The hash keeps ids that read
    alike once reduced to letters, digits, - and _ ("a:b", "a.b", "a_b") apart."""
    readable = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in sender_id)[:60] or "x"
    digest = hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:8]
    return f"test_reviewed_{readable}-{digest}.yml"


def story_path(sender_id: str) -> Path:
    return stories_dir() / story_name(sender_id)


def forget(sender_id: str) -> bool:
    """Removes the founder's saved test story, if there is one."""
    try:
        story_path(sender_id).unlink()
    except FileNotFoundError:
        return False
    return True
