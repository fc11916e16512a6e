"""Recommendations, edits, confirmation and saving of the block."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import block_of, deliver, entity_values, founder, latest_intent, latest_text, store
from bot.coach import conversation as coach
from bot.coach.store import StoreError


class ActionRecommend(Action):
    def name(self) -> Text:
        return "action_recommend"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, coach.recommend_block(block_of(tracker)))


class ActionConfirmBlock(Action):
    def name(self) -> Text:
        return "action_confirm_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, coach.confirm_block(block_of(tracker)))


class ActionSaveBlock(Action):
    def name(self) -> Text:
        return "action_save_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = founder(tracker)
        try:
            saved = store().save_block(
                who["channel"], who["sender_id"], block_of(tracker, status="final"), cohort=who["cohort"]
            )
        except StoreError:
            return deliver(dispatcher, tracker, coach.save_failed())
        return deliver(dispatcher, tracker, coach.block_saved(saved))


class ActionWhatToChange(Action):
    def name(self) -> Text:
        return "action_what_to_change"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, coach.what_to_change())


class ActionEditBlock(Action):
    """add / drop / swap relationship types on a segment."""

    def name(self) -> Text:
        return "action_edit_block"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(
            dispatcher,
            tracker,
            coach.edit_block(
                latest_intent(tracker),
                latest_text(tracker),
                entity_values(tracker, "relationship_type"),
                block_of(tracker),
                tracker.get_slot("stage"),
                entity_touchpoints=entity_values(tracker, "touchpoint"),
            ),
        )


class ActionShowCanvas(Action):
    """The block in progress, or else the last one the founder saved."""

    def name(self) -> Text:
        return "action_show_canvas"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        block = block_of(tracker)
        if coach.shows_saved_copy(block, tracker.get_slot("stage")):
            who = founder(tracker)
            try:
                block = store().latest_block(who["channel"], who["sender_id"])
            except StoreError:
                dispatcher.utter_message(text=coach.STORE_BUSY)
                return []
        return deliver(dispatcher, tracker, coach.show_canvas(block))
