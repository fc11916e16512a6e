"""Each of the coach's shared words and names has one home, and a second copy fails here.

- what every channel says when something outside the conversation goes wrong:
  bot/knowledge/texts.yml (read through bot.coach.knowledge.load_texts);
- the stages of a conversation and the coordinator's labels of the stages and the
  questions: bot/knowledge/interview.yml (domain.yml's `stage` slot held equal, and
  the code may name no stage the file does not list);
- the default database URLs: the store that opens them;
- an export's file name: bot/coach/export.py (the widget is sent it).

Documentation (README, docs/, .env.example) may quote them; code and data may not.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from bot.coach.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge, load_texts

ROOT = Path(__file__).resolve().parents[1]
CODE_SUFFIXES = {".py", ".js", ".yml", ".yaml", ".html", ".css", ".json", ".toml", ".ini", ".sh"}
CODE_NAMES = {"Makefile", "Procfile"}
SKIPPED_DIRS = {"tests", "docs", "node_modules", "var", "models"}


@functools.lru_cache(maxsize=None)
def code_texts() -> Tuple[Tuple[str, str], ...]:
    """Every code file's path (from the root) and text, read once: hidden and skipped
    folders (node_modules, var, ...) are left out of the walk, not walked and filtered."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in files:
            path = Path(folder) / name
            if not name.startswith(".") and (path.suffix in CODE_SUFFIXES or name in CODE_NAMES) and path.is_file():
                found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8", errors="replace")))
    return tuple(sorted(found))


# The same words, meaning something else there.
NOT_COPIES = {
    ("First segment", "bot/coach/interview.py"),  # the first segment question's lead: "First segment: who are..."
    ("How often they buy", "bot/knowledge/rules.yml"),  # a heading among the rules
}


def homes_of(text: str) -> List[str]:
    return [name for name, content in code_texts() if text in content and (text, name) not in NOT_COPIES]


def once_in(expected_home: str, *texts: str) -> Dict[str, List[str]]:
    """Each text that is written somewhere besides its home (or not there at all)."""
    return {text: found for text in texts if (found := homes_of(text)) != [expected_home]}


def test_the_channels_texts_are_written_once():
    texts = load_texts()
    assert set(texts) == {"store_busy", "message_not_stored", "actions_unreachable"}
    assert once_in("bot/knowledge/texts.yml", *texts.values()) == {}


def test_the_labels_of_stages_and_questions_are_written_once():
    interview = load_knowledge().interview
    labels = [
        *interview.stages.values(),
        *(q.label for q in (*interview.venture.values(), *interview.segment.values())),
    ]
    assert all(labels) and len(set(labels)) == len(labels), labels
    # Short labels ("Saved", "Touchpoints") are ordinary words elsewhere; the others are the labels themselves.
    assert once_in("bot/knowledge/interview.yml", *(label for label in labels if len(label) > 12)) == {}


def test_domain_yml_knows_the_same_stages_as_the_interview():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    stage = domain["slots"]["stage"]
    stages = list(load_knowledge().interview.stages)
    assert stage["values"] == stages, "domain.yml's stage slot: values must be interview.yml's stages, in order"
    assert stage["initial_value"] == stages[0]


# Where code names a stage: compares a stage, sets the slot, or asks for a stage's prompt.
STAGE_USES = re.compile(
    r"""(?:\bstage"?\s*(?:==|!=|=|:)\s*"([a-z_]+)"|\bstage\s+(?:not\s+)?in\s+\(([^)]*)\)|pending_prompt\(\s*"([a-z_]+)")"""
)


def test_the_code_names_only_the_interviews_stages():
    stages = set(load_knowledge().interview.stages)
    used = {}
    for path in [*sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "actions").rglob("*.py"))]:
        for match in STAGE_USES.finditer(path.read_text(encoding="utf-8")):
            compared, listed, prompted = match.groups()
            for name in [compared, prompted, *re.findall(r'"([a-z_]+)"', listed or "")]:
                if name:
                    used.setdefault(name, str(path.relative_to(ROOT)))
    assert {"segments", "review", "saved"} <= set(used), "the pattern finds the code's stages"
    assert {name: where for name, where in used.items() if name not in stages} == {}


def test_the_review_dashboard_labels_from_the_interview():
    from bot.review import queries

    interview = load_knowledge().interview
    assert queries.question_label(None) == queries.question_label("intro") == interview.stages["intro"]
    assert queries.question_label("segment_goal") == interview.segment["segment_goal"].label
    places = queries.waiting_places()
    assert set(places) == {*interview.stages, *interview.venture, *interview.segment}
    assert places.index("segments") < places.index("segment_who") < places.index("more_segments")


def test_the_default_database_urls_are_written_once():
    assert once_in("bot/coach/store/store.py", "sqlite:///var/canvas.db") == {}
    assert once_in("bot/review/db.py", "sqlite:///var/review.db") == {}


def test_an_exports_file_name_is_made_once():
    from bot.coach.canvas import CanvasBlock
    from bot.coach.export import block_file_name

    assert once_in("bot/coach/export.py", "-customer-relationships") == {}
    assert block_file_name(CanvasBlock("Brew & Box: Café", version=2)) == "brew-box-café-customer-relationships-v2"
    assert block_file_name(CanvasBlock("!!!")) == "block-customer-relationships"


def test_a_broken_texts_file_is_refused_by_name(tmp_path):
    (tmp_path / "texts.yml").write_text("store_busy: ''\nmessage_not_stored: x\nsurprise: y\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_texts(tmp_path)
    message = str(caught.value)
    assert "'store_busy' must be a non-empty text" in message and "'actions_unreachable' must be" in message
    assert "unknown text 'surprise'" in message
    assert (KNOWLEDGE_DIR / "texts.yml").exists()
