"""Markdown and JSON exports of a block, the founder's data export, and reading an exported block back into the store."""

import dataclasses
import json
from datetime import datetime, timezone

import pytest

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.export import (
    _PROFILE_TYPES,
    DATA_FORMAT,
    FORMAT,
    export_dict,
    founder_data_files,
    from_export_dict,
    to_markdown,
    touchpoint_labels,
)
from bot.coach.knowledge import load_knowledge
from bot.coach.profile import SegmentProfile
from bot.coach.store import CanvasStore
from tests.conftest import ledgerly_block


def sample_block():
    return ledgerly_block(
        version=3,
        created_at=datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=timezone.utc),
        needs="Invoices out fast,\ntaxes without panic",
        touchpoints=["app", "email"],
    )  # touchpoints.yml's ids


# --- Markdown -------------------------------------------------------------------------


def test_markdown_reads_like_the_canvas():
    text = to_markdown(sample_block())

    assert text.startswith("# Customer Relationships: Ledgerly\n")
    assert "Bookkeeping that runs itself" in text
    assert "## Segment: Freelance designers" in text
    assert "## Segment: Small agencies" in text
    assert "Invoices out fast, taxes without panic" in text  # a newline in founder text stays inside its line
    assert "- **Touchpoints:** Mobile or web app, Email\n" in text  # touchpoints.yml's labels, as the chat says them
    for heading in (
        "### Self-service\n",
        "### Communities *(added by the founder)*",
        "### Personal assistance *(edited by the founder)*",
    ):
        assert heading in text
    for reason in ("They work at 2am", "Low price point", "They help each other", "Big accounts"):
        assert f"- {reason}\n" in text
    assert "Final, version 3, saved 2024-05-01" in text
    # Sections come in the block's order.
    assert text.index("Freelance designers") < text.index("Self-service") < text.index("Small agencies")


def test_markdown_shows_no_ids_or_nones():
    block = sample_block()
    block.venture_offer = None
    block.segments.append(Segment(profile=SegmentProfile()))  # nothing known yet
    text = to_markdown(block)

    assert "None" not in text
    for type_id in ("self_service", "personal_assistance"):
        assert type_id not in text
    assert "Touchpoints:** app" not in text  # the touchpoint id "app"
    assert "## Segment: Unnamed segment 3" in text
    assert "_No relationship types chosen yet._" in text


def test_markdown_words_touchpoints_and_types_as_the_knowledge_and_the_chat_do():
    kb = load_knowledge()
    block = sample_block()
    block.segments[0].profile.touchpoints = ["website", "kiosk"]
    block.segments[0].choices[0].name = ""  # a choice saved without its name
    text = to_markdown(block)
    labels = f"{kb.touchpoint_label('website')}, {kb.touchpoint_label('kiosk')}"
    assert f"- **Touchpoints:** {labels}\n" in text
    assert touchpoint_labels(["website", "kiosk"]) == labels  # what the recommendations say after "Where:"
    assert f"### {kb.type_name(block.segments[0].choices[0].type_id)}\n" in text


def test_markdown_of_a_block_saved_before_the_knowledge_changed():
    block = sample_block()
    block.segments[0].profile.touchpoints = ["carrier_pigeon", "email"]
    block.segments[0].choices[0] = RelationshipChoice(
        type_id="telepathy", name="", reasons=["Old advice"], origin="accepted"
    )
    text = to_markdown(block)
    assert f"- **Touchpoints:** carrier_pigeon, {load_knowledge().touchpoint_label('email')}\n" in text
    assert "### telepathy\n" in text


def test_markdown_of_an_empty_draft():
    text = to_markdown(CanvasBlock(venture_name="Ledgerly"))
    assert "Draft" in text and "_No customer segments yet._" in text and "None" not in text


# --- JSON -------------------------------------------------------------------------------


def exported(*blocks):
    """The blocks as the founder's data export writes them into its JSON file."""
    files = founder_data_files("rest", "ada", list(blocks))
    data = json.loads(files[1]["content"])
    assert (data["format"], data["format_version"], data["sender_id"]) == (DATA_FORMAT, 1, "ada")
    return data["blocks"]


def test_json_has_the_header_and_every_field():
    data = exported(sample_block())[0]
    assert data == export_dict(sample_block())
    assert data["format"] == FORMAT and data["format_version"] == 1
    assert data["created_at"] == "2024-05-01T09:30:15.123456+00:00"
    assert data["version"] == 3
    profile = data["segments"][0]["profile"]
    assert set(profile) == {f.name for f in dataclasses.fields(SegmentProfile)}
    assert data["segments"][0]["choices"][0] == {
        "type_id": "self_service",
        "name": "Self-service",
        "reasons": ["They work at 2am", "Low price point"],
        "origin": "accepted",
        "score": 0.91,
    }


def test_the_format_checks_every_profile_answer():
    assert set(_PROFILE_TYPES) | {"touchpoints"} == {f.name for f in dataclasses.fields(SegmentProfile)}


@pytest.mark.parametrize(
    "block",
    [sample_block(), CanvasBlock(venture_name="Ledgerly"), CanvasBlock(venture_name="Ünïcode ✓", venture_offer="")],
)
def test_json_round_trip(block):
    assert from_export_dict(exported(block)[0]) == block


def test_json_round_trip_through_the_store(tmp_path):
    original = sample_block()
    with (
        CanvasStore(f"sqlite:///{tmp_path / 'a.db'}") as first,
        CanvasStore(f"sqlite:///{tmp_path / 'b.db'}") as second,
    ):
        saved = first.save_block("telegram", "42", original)
        exported_block = exported(first.latest_block("telegram", "42"))[0]

        imported = second.save_block("rest", "7", from_export_dict(exported_block))
        assert imported.version == 1  # a new version in its new home
        assert second.latest_block("rest", "7") == imported
        assert dataclasses.replace(imported, version=None, created_at=None) == dataclasses.replace(
            original, version=None, created_at=None
        )
        assert from_export_dict(exported_block) == saved

        # Saving it again for the same founder adds a version.
        again = first.save_block(
            "telegram", "42", dataclasses.replace(from_export_dict(exported_block), version=None, created_at=None)
        )
        assert again.version == 2
        assert first.block_versions("telegram", "42")[0] == saved


def _export(**changes):
    data = exported(sample_block())[0]
    data.update(changes)
    return data


def _without(data, *path):
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    del target[last]
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "JSON object"),
        (_export(format="trello.board"), "'format' is 'trello.board'"),
        (_without(_export(), "format"), "'format' is None"),
        (_export(format_version=2), "unsupported canvas export version 2"),
        (_export(format_version=True), "unsupported canvas export version True"),
        (_without(_export(), "venture_name"), "block: missing field 'venture_name'"),
        (_without(_export(), "segments"), "block: missing field 'segments'"),
        (_export(segments={}), "block: field 'segments' has the wrong type (dict)"),
        (_export(segments=["x"]), "segment 1: expected an object"),
        (_without(_export(), "segments", 1, "profile"), "segment 2: missing field 'profile'"),
        (_without(_export(), "segments", 0, "profile", "goal"), "segment 1 profile: missing field 'goal'"),
        (_without(_export(), "segments", 0, "choices", 1, "type_id"), "segment 1, choice 2: missing field 'type_id'"),
        (_without(_export(), "segments", 1, "choices", 0, "reasons"), "segment 2, choice 1: missing field 'reasons'"),
        (_export(status="published"), "status must be one of"),
        (_export(created_at="last tuesday"), "invalid canvas export"),
    ],
)
def test_from_export_dict_rejects_bad_input_clearly(data, message):
    with pytest.raises(ValueError) as caught:
        from_export_dict(data)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("customer_count", "many", "field 'customer_count' has the wrong type (str)"),
        ("customer_count", True, "field 'customer_count' has the wrong type (bool)"),
        ("members_help_each_other", "yes", "field 'members_help_each_other' has the wrong type (str)"),
        ("touchpoints", ["email", 3], "field 'touchpoints' must be a list of strings"),
        ("market", "b2g", "market must be one of"),
        ("customer_count", -1, "customer_count cannot be negative"),
    ],
)
def test_from_export_dict_rejects_bad_answers(key, value, message):
    data = exported(sample_block())[0]
    data["segments"][0]["profile"][key] = value
    with pytest.raises(ValueError) as caught:
        from_export_dict(data)
    assert message in str(caught.value)


def test_a_bad_origin_is_refused():
    data = exported(sample_block())[0]
    data["segments"][0]["choices"][0]["origin"] = "imagined"
    with pytest.raises(ValueError, match="origin must be one of"):
        from_export_dict(data)


def test_a_dict_without_the_header_is_refused():
    with pytest.raises(ValueError, match="'format'"):
        from_export_dict({"venture_name": "No header"})
