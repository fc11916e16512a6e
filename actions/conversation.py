"""Greeting, questions, fallbacks, and the founder's own commands.

The confirmed "delete my data" is not here: it runs in the Rasa server
(bot/plugins/founder_data.py), the one place that can delete the conversation too."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    block_of,
    deliver,
    entity_values,
    latest_intent,
    latest_text,
    recent_intents,
    save_draft,
    segments_of,
    suspend_form,
)
from bot.coach import conversation as coach
from bot.coach import interview


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, coach.greet(tracker.get_slot("venture_name"), tracker.get_slot("stage")))


class ActionAnswerQuestion(Action):
    """Answers "why?", "what is ...?", examples, differences and KPIs, then the
    conversation goes on where it was."""

    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        context = coach.QuestionContext(
            requested_slot=tracker.get_slot("requested_slot") if tracker.active_loop_name else None,
            stage=tracker.get_slot("stage"),
            segments=segments_of(tracker),
        )
        return deliver(
            dispatcher,
            tracker,
            coach.reply_to_question(
                latest_intent(tracker), latest_text(tracker), entity_values(tracker, "relationship_type"), context
            ),
        )


class ActionCoachFallback(Action):
    """Says what the coach can do and asks the pending question again; from the
    second miss in a row it offers buttons."""

    def name(self) -> Text:
        return "action_coach_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(
            dispatcher,
            tracker,
            coach.not_understood(
                recent_intents(tracker), latest_text(tracker), tracker.get_slot("stage"), bool(tracker.active_loop_name)
            ),
        )


class ActionPause(Action):
    def name(self) -> Text:
        return "action_pause"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        save_draft(tracker, block_of(tracker))
        return [*deliver(dispatcher, tracker, coach.pause()), *suspend_form(tracker)]


class ActionResume(Action):
    """Back from a pause, or from saying no to deleting everything."""

    def name(self) -> Text:
        return "action_resume"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(
            dispatcher,
            tracker,
            coach.resume(
                bool(tracker.get_slot("confirming_delete")),
                tracker.get_slot("venture_name"),
                tracker.get_slot("stage"),
                tracker.get_slot("paused_form"),
            ),
        )


class ActionStartOver(Action):
    def name(self) -> Text:
        return "action_start_over"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [*suspend_form(tracker), *deliver(dispatcher, tracker, interview.start_over())]


class ActionChangeSegment(Action):
    def name(self) -> Text:
        return "action_change_segment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, interview.change_segment(latest_text(tracker), segments_of(tracker)))


class ActionDeleteRequest(Action):
    def name(self) -> Text:
        return "action_delete_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [*suspend_form(tracker), *deliver(dispatcher, tracker, coach.delete_request())]
