"""Recommendations, edits, confirmation and saving of the block."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import block_of, entity_values, founder, latest_text, prompt, save_draft, segments_slot, store
from bot.coach import conversation as coach
from bot.coach.canvas import Segment
from bot.coach.export import to_markdown
from bot.coach.store import StoreError


class ActionRecommend(Action):
    def name(self) -> Text:
        return "action_recommend"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        block = block_of(tracker)
        segments: List[Segment] = []
        for index, segment in enumerate(block.segments):
            advice = coach.recommend_segment(segment.profile)
            segments.append(Segment(segment.profile, coach.choices_from_advice(advice)))
            dispatcher.utter_message(text=coach.render_advice(index, segment.profile, advice))
        block.segments = segments
        for warning in coach.block_warnings(block):
            dispatcher.utter_message(text=f"⚠️ {warning}")
        save_draft(tracker, block)
        text, buttons = coach.pending_prompt("review", None)
        dispatcher.utter_message(text=text, buttons=buttons)
        return [segments_slot(segments), SlotSet("stage", "review")]


class ActionConfirmBlock(Action):
    def name(self) -> Text:
        return "action_confirm_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        block = block_of(tracker)
        dispatcher.utter_message(text="Here is your Customer Relationships block:\n" + coach.render_block(block))
        for warning in coach.block_warnings(block):
            dispatcher.utter_message(text=f"⚠️ {warning}")
        text, buttons = coach.pending_prompt("confirm", None)
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("stage", "confirm")]


class ActionSaveBlock(Action):
    def name(self) -> Text:
        return "action_save_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = founder(tracker)
        try:
            saved = store().save_block(who["channel"], who["sender_id"], block_of(tracker, status="final"),
                                       cohort=who["cohort"])
        except StoreError:
            # Nothing is lost: the answers stay in the conversation, and "yes" tries again.
            dispatcher.utter_message(text=coach.SAVE_FAILED, buttons=coach.yes_no_buttons("Try again", "Not now"))
            return [SlotSet("stage", "confirm")]
        markdown = to_markdown(saved)
        dispatcher.utter_message(text=markdown)
        # Channels that can draw it (the web widget) show the block as a card of sticky notes.
        dispatcher.utter_message(json_message={"type": "canvas_block", "block": saved.to_dict(), "markdown": markdown})
        dispatcher.utter_message(text=coach.saved_message(saved.version))
        return [SlotSet("stage", "saved")]


class ActionWhatToChange(Action):
    def name(self) -> Text:
        return "action_what_to_change"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=coach.WHAT_TO_CHANGE)
        return [SlotSet("stage", "review")]


class ActionEditBlock(Action):
    """add / drop / swap relationship types on a segment."""

    def name(self) -> Text:
        return "action_edit_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        stage = tracker.get_slot("stage")
        if stage not in ("review", "confirm", "saved"):
            dispatcher.utter_message(text=coach.EDIT_TOO_EARLY)
            prompt(dispatcher, tracker)
            return []
        intent = tracker.latest_message.get("intent", {}).get("name")
        result = coach.apply_edit(intent, latest_text(tracker), entity_values(tracker, "relationship_type"), block_of(tracker))
        dispatcher.utter_message(text=result.message)
        if not result.changed:
            return []
        dispatcher.utter_message(text=coach.render_block(result.block))
        for warning in coach.block_warnings(result.block):
            dispatcher.utter_message(text=f"⚠️ {warning}")
        save_draft(tracker, result.block)
        text, buttons = coach.pending_prompt("review", None)
        dispatcher.utter_message(text=text, buttons=buttons)
        return [segments_slot(result.block.segments), SlotSet("stage", "review")]


class ActionShowCanvas(Action):
    """The block in progress, or else the last one the founder saved."""

    def name(self) -> Text:
        return "action_show_canvas"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        block = block_of(tracker)
        # Once saved, the store's copy is the one with its version number.
        if not block.segments or tracker.get_slot("stage") == "saved":
            who = founder(tracker)
            try:
                block = store().latest_block(who["channel"], who["sender_id"])
            except StoreError:
                dispatcher.utter_message(text=coach.STORE_BUSY)
                return []
        if block is None or not block.segments:
            dispatcher.utter_message(text=coach.NOTHING_TO_SHOW)
        else:
            dispatcher.utter_message(text=to_markdown(block))
        prompt(dispatcher, tracker)
        return []
