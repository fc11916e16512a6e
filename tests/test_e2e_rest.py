"""The whole coach, for real: the action server and the Rasa server started as
`make run` starts them, talked to over the REST channel, the block then read
back from the SQLite canvas store."""

from __future__ import annotations

from deploy.launchers import CoachServers
from tests.conftest import buttons, rows, texts


def start_segment(coach: CoachServers, sender: str) -> None:
    assert "Ready?" in texts(coach.say(sender, "hi"))
    assert "venture called" in texts(coach.say(sender, "yes, let's go"))
    reply = texts(coach.say(sender, "It's called Brewbox, we deliver fresh coffee beans to offices"))
    assert "First segment" in reply


def test_two_segments_talked_through_and_saved(coach):
    sender = "founder-two-segments"
    start_segment(coach, sender)
    # Segment 1: the description already says how many, their value and how often they buy:
    # each is confirmed in one line, and "yes" keeps it.
    reply = coach.say(sender, "about 20 big banks at 200k a year, they renew every year")
    assert "From what you said, they are businesses (B2B): is that right?" in texts(reply)
    assert "Yes: businesses (B2B)" in buttons(reply)
    reply = coach.say(sender, "yes")
    assert "You mentioned about 20 customers, each worth about 200,000 a year: is that right?" in texts(reply)
    reply = coach.say(sender, "yes")
    assert "You mentioned they buy regularly (recurring): is that right?" in texts(reply)
    assert "Yes: regularly (recurring)" in buttons(reply)
    reply = coach.say(sender, "yes")
    assert "expertise and personal touch" in texts(reply)
    assert "Expert one-to-one advice" in buttons(reply)
    coach.say(sender, '/inform{"support_level": "expert"}')
    coach.say(sender, '/inform{"community_role": "neither"}')
    coach.say(sender, "face to face meetings, email and phone")
    reply = coach.say(sender, '/inform{"goal": "keep"}')
    assert "another customer segment" in texts(reply)
    # Segment 2, typed rather than clicked.
    assert "Segment 2" in texts(coach.say(sender, "yes"))
    coach.say(sender, "young women who want affordable beauty products")
    coach.say(sender, "yes")  # consumers (B2C), heard in passing
    reply = texts(coach.say(sender, "maybe 5000 of them at 60 euros a year"))
    assert "You mentioned a budget price: is that right?" in reply, "'affordable' is said back before it counts"
    coach.say(sender, "yes")
    coach.say(sender, "a few times a year")
    coach.say(sender, "a friendly personal touch")
    coach.say(sender, "they share tips with each other")
    coach.say(sender, "instagram and tiktok")
    coach.say(sender, "keep them")
    reply = texts(coach.say(sender, "no, that's all"))
    assert "Segment 1: Big banks" in reply and "Dedicated personal assistance" in reply
    assert "Segment 2: Young women" in reply and "Communities" in reply
    reply = texts(coach.say(sender, "swap personal assistance for co-creation for the young women"))
    assert "Swapped Personal assistance for Co-creation in Young women" in reply
    assert "Here is your Customer Relationships block" in texts(coach.say(sender, "looks good"))
    reply = texts(coach.say(sender, "yes, save it"))
    assert "# Customer Relationships: Brewbox" in reply and "Saved as version 1" in reply

    founders = rows(coach.canvas_db, "SELECT id FROM founders WHERE sender_id = ?", sender)
    assert len(founders) == 1
    versions = rows(
        coach.canvas_db,
        "SELECT v.id, v.version, v.status FROM block_versions v JOIN ventures w ON v.venture_id = w.id "
        "WHERE w.founder_id = ?",
        founders[0][0],
    )
    final = [v for v in versions if v[2] == "final"]
    assert len(final) == 1 and final[0][1] == 1
    segments = rows(
        coach.canvas_db, "SELECT id, name FROM segments WHERE version_id = ? ORDER BY position", final[0][0]
    )
    assert [name for _, name in segments] == ["Big banks", "Young women"]
    choices = rows(
        coach.canvas_db, "SELECT type_id, origin FROM relationship_choices WHERE segment_id = ?", segments[1][0]
    )
    assert ("co_creation", "edited") in choices
    assert ("personal_assistance", "accepted") not in choices


def test_questions_in_the_middle_keep_the_place(coach):
    sender = "founder-digressions"
    start_segment(coach, sender)
    coach.say(sender, "independent bike shops that need spare parts fast")
    coach.say(sender, "yes")  # businesses (B2B), heard in passing
    reply = texts(coach.say(sender, "why?"))
    assert "I ask because" in reply and "Roughly how many" in reply, "answers, then asks the same question again"
    reply = texts(coach.say(sender, "what's the difference between self-service and automated services?"))
    assert "Self-service" in reply and "Automated services" in reply and "Roughly how many" in reply
    assert "How often" in texts(coach.say(sender, "about 300 shops at 2,000 euros a year"))


def test_a_restarted_server_continues_the_conversation(coach):
    sender = "founder-restart"
    start_segment(coach, sender)
    coach.say(sender, "freelance designers who need invoices done quickly")
    coach.stop_rasa()
    coach.start_rasa()
    reply = texts(coach.say(sender, "thousands of them at 100 dollars a year"))
    assert "How often" in reply, "the form goes on from the tracker kept in SQLite"


def test_bad_input_gets_a_clear_answer_and_loses_nothing(coach):
    sender = "founder-bad-input"
    reply = texts(coach.say(sender, "x" * 20_000))
    assert "sum it up" in reply, "outside the forms too: a huge message is never taken for a command"
    start_segment(coach, sender)
    reply = texts(coach.say(sender, "x" * 20_000))
    assert "sum it up" in reply
    coach.say(sender, "families who want healthy snacks delivered")
    coach.say(sender, "yes")  # consumers (B2C), heard in passing
    coach.say(sender, "not sure")
    reply = coach.say(sender, '/inform{"purchase_frequency": "every_leap_year"}')
    assert "didn't catch that" in texts(reply) and "How often" in texts(reply)
    reply = texts(coach.say(sender, ""))
    assert reply.strip(), "an empty message still gets an answer"
    reply = texts(coach.say(sender, "Regularly, every week"))
    assert "expertise and personal touch" in reply, "the interview goes on where it was"


def test_pause_and_come_back(coach):
    sender = "founder-pause"
    start_segment(coach, sender)
    assert "stop here" in texts(coach.say(sender, "let's stop here, I have to go"))
    reply = texts(coach.say(sender, "I'm back, let's continue"))
    assert "Welcome back" in reply and "who are these customers" in reply


def test_delete_my_data_removes_the_founder(coach):
    sender = "founder-delete"
    start_segment(coach, sender)
    coach.say(sender, "dentists who need their appointment books filled")
    for answer in (
        "about 50 practices at 3000 euros a year",
        "every month",
        "quick help when stuck",
        "neither",
        "email and phone",
        "keep them",
    ):
        coach.say(sender, answer)
    assert rows(coach.canvas_db, "SELECT id FROM founders WHERE sender_id = ?", sender), "the draft was autosaved"
    reply = coach.say(sender, "please delete my data")
    assert "Yes, delete everything" in buttons(reply)
    assert "deleted" in texts(coach.say(sender, "/confirm_delete"))
    assert not rows(coach.canvas_db, "SELECT id FROM founders WHERE sender_id = ?", sender)


def test_recommendations_are_recorded_with_the_rules_that_fired(coach):
    """Each message presenting a segment's recommendations carries an `advice` record:
    the tracker store keeps it in the bot event's metadata, for the review dashboard;
    the founder's channel does not show it."""
    import json

    from bot.coach.knowledge import load_knowledge

    sender = "founder-advice-record"
    start_segment(coach, sender)
    coach.say(sender, "about 20 big banks at 200k a year, they renew every year")
    coach.say(sender, "yes")  # businesses (B2B), heard
    coach.say(sender, "yes")  # the numbers heard
    coach.say(sender, "yes")  # how often they buy, heard
    coach.say(sender, '/inform{"support_level": "expert"}')
    coach.say(sender, '/inform{"community_role": "neither"}')
    coach.say(sender, "face to face meetings, email and phone")
    coach.say(sender, '/inform{"goal": "keep"}')
    replies = coach.say(sender, "no, that's all")
    assert "Segment 1: Big banks" in texts(replies)
    assert not any("advice" in reply for reply in replies), "the record is not drawn by the channel"

    events = [
        json.loads(data)
        for (data,) in rows(
            coach.tracker_db, "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", sender
        )
    ]
    records = [e["metadata"]["advice"] for e in events if "advice" in (e.get("metadata") or {})]
    assert len(records) == 1
    advice = records[0]
    assert (advice["segment_index"], advice["segment_name"]) == (0, "Big banks")
    assert advice["profile"]["customer_count"] == 20 and advice["profile"]["goal"] == "keep"
    assert advice["missing"] is None or advice["missing"] in advice["profile"]
    presented = next(e["text"] for e in events if "advice" in (e.get("metadata") or {}))
    assert presented.startswith("**Segment 1: Big banks**")
    top = advice["recommendations"][0]
    assert set(top) == {"type_id", "name", "score", "reasons", "shown", "rules", "check"}
    assert top["type_id"] == "dedicated_personal_assistance" and top["name"] in presented
    rule_ids = {rule.id for rule in load_knowledge().rules}
    for recommendation in advice["recommendations"]:
        assert recommendation["rules"], recommendation["type_id"]
        for rule in recommendation["rules"]:
            assert set(rule) == {"id", "because", "weight", "own", "shown"}
            assert rule["id"] in rule_ids and rule["weight"] != 0
        raised = [r["because"] for r in recommendation["rules"] if r["weight"] > 0]
        assert set(recommendation["reasons"]) == set(raised)
        # the rules marked as read are what the founder read under the type, word for word
        for rule in recommendation["rules"]:
            if rule["shown"]:
                assert rule["because"] in recommendation["shown"] and rule["because"] in presented
        assert recommendation["shown"][0] in presented
        assert round(sum(r["weight"] for r in recommendation["rules"]), 3) == recommendation["score"]


def test_the_seeds_advice_is_given_anywhere_and_the_interview_goes_on(coach):
    sender = "founder-advice"
    assert "Common challenges, and how founders overcome them" in texts(coach.say(sender, "what are common mistakes?"))
    start_segment(coach, sender)
    coach.say(sender, "independent bike shops that need spare parts fast")
    coach.say(sender, "yes")  # businesses (B2B), heard in passing
    reply = texts(coach.say(sender, "best practices for communities?"))
    assert "To make **Communities** work" in reply and "Roughly how many" in reply, "advice, then the same question"
    assert "How often" in texts(coach.say(sender, "about 300 shops at 2,000 euros a year"))
