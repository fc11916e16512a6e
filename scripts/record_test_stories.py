"""Records Rasa test stories from real conversations.

Talks each scripted conversation below through the real servers (REST channel),
then writes the tracker, as Rasa saw it (intents, entities, actions, slots), as
a story in tests/stories/.
`rasa test core --fail-on-prediction-errors` then checks that the trained model
still takes every one of those steps. Re-record after changing the flow, and
read the diff before committing it:

    .venv/bin/python scripts/record_test_stories.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter  # noqa: E402
from rasa.shared.core.training_data.structures import Story  # noqa: E402

from bot.plugins.test_stories import story_events  # noqa: E402
from deploy.launchers import ROOT, CoachServers  # noqa: E402

START = ["hi", "yes, let's go", "It's called Brewbox, we deliver fresh coffee beans to offices"]
BANKS = [
    "about 20 big banks at 200k a year, they renew every year",
    "yes",  # businesses (B2B), heard in passing, confirmed
    "yes",  # the numbers heard in passing, confirmed
    "yes",  # how often they buy, confirmed
    '/inform{"support_level": "expert"}',
    '/inform{"community_role": "neither"}',
    "face to face meetings, email and phone",
    '/inform{"goal": "keep"}',
]
WOMEN = [
    "young women who want affordable beauty products",
    "yes",  # consumers (B2C), heard in passing, confirmed
    "maybe 5000 of them at 60 euros a year",
    "yes",  # a budget price ("affordable"), heard in passing, confirmed
    "a few times a year",
    "a friendly personal touch",
    "they share tips with each other",
    "instagram and tiktok",
    "keep them",
]

# file -> story name -> what the founder types or clicks
CONVERSATIONS: Dict[str, Dict[str, List[str]]] = {
    "happy_path": {
        "one segment, recommendations accepted, block saved": [*START, *BANKS, "no", "looks good", "yes, save it"],
        "two segments, saved": [*START, *BANKS, "yes", *WOMEN, "no, that's all", "yes", "save it"],
    },
    "edits": {
        "swap, add and drop before saving": [
            *START,
            *BANKS,
            "yes",
            *WOMEN,
            "no",
            "swap personal assistance for co-creation for the young women",
            "add a loyalty program for segment 2",
            "drop advisory from the banks",
            "looks good",
            "yes",
        ],
        "not yet: change something after seeing the block": [
            *START,
            *BANKS,
            "no",
            "looks good",
            "not yet",
            "add self-service",
            "yes",
            "yes",
        ],
    },
    "digressions": {
        "questions in the middle of a segment": [
            *START,
            "independent bike shops that need spare parts fast",
            "why?",
            "yes",
            "what is co-creation?",
            "about 300 shops at 2,000 euros a year",
            "give me an example of a community",
            "every month",
            "what's the difference between self-service and automated services?",
            '/inform{"support_level": "guidance"}',
            '/inform{"community_role": "help_each_other"}',
            "our website and a forum",
            "how do I measure if a community works?",
            '/inform{"goal": "grow"}',
            "no",
            "why?",
            "looks good",
            "yes",
        ],
    },
    "fallbacks": {
        "off-topic at the start, twice": [
            "hi",
            "what's the weather like in lisbon",
            "who won the game last night",
            "yes",
        ],
        "off-topic in the middle of a segment": [
            *START,
            "tell me a joke",
            "families who want healthy snacks",
            "yes",
            "what's the bitcoin price",
            "not sure",
            '/inform{"purchase_frequency": "every_leap_year"}',
            "every week",
        ],
    },
    "session": {
        "show, pause, continue": [*START, *BANKS, "show my canvas", "let's stop here", "let's continue", "no"],
        "pause in the middle of a segment and come back": [
            *START,
            "dentists who need their books filled",
            "let's stop here",
            "I'm back",
            "about 50 practices",
        ],
        "change the second segment": [
            *START,
            *BANKS,
            "yes",
            *WOMEN,
            "no",
            "change the second segment",
            *WOMEN[:2],
            "thousands at 20 euros a year",
            *WOMEN[3:],
        ],
        "start over": [*START, "freelance designers", "start over", "Inkwell"],
        "a venture named like a greeting or a pause": [
            "hi",
            "yes, let's go",
            "Hello Fresh Bakes",
            "start over",
            "Break Time Cafe",
            "we bake bread for cafes",
        ],
        # "Delete my data", confirmed, leaves nothing of the conversation in the tracker store to
        # record (bot/plugins/tracker_store.py); tests/test_e2e_rest.py plays it over REST.
        "delete my data, cancelled": [*START, "dentists", "delete my data", "/deny", "about 50 practices"],
    },
}


async def export(servers: CoachServers, domain: Domain, senders: Dict[str, str]) -> str:
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(servers.tracker_db))
    writer = YAMLStoryWriter()
    steps = []
    for sender, name in senders.items():
        tracker = await store.retrieve_full_tracker(sender)  # every session, not only the last
        story = Story.from_events(story_events(list(tracker.events)), sender).story_steps
        for step in story:
            step.block_name = name
        steps.extend(story)
    return writer.dumps(steps)


def main() -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    out = ROOT / "tests" / "stories"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        servers = CoachServers(Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()
            for file, stories in CONVERSATIONS.items():
                senders = {}
                for index, (name, turns) in enumerate(stories.items()):
                    sender = f"{file}-{index}"
                    for turn in turns:
                        servers.say(sender, turn)
                    senders[sender] = name
                text = asyncio.run(export(servers, domain, senders))
                header = "# Recorded by scripts/record_test_stories.py from real conversations; re-record, don't hand-edit.\n"
                # test_*: Rasa's conversation tests (`rasa test --e2e` reads only those)
                (out / f"test_{file}.yml").write_text(header + text)
                print(f"wrote tests/stories/test_{file}.yml ({len(stories)} stories)")
        finally:
            servers.stop()


if __name__ == "__main__":
    main()
