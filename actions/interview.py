"""The venture and segment interviews: forms' validation and their endings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import deliver, latest_intent, latest_text, segments_of
from bot.coach import interview
from bot.coach.interview import answers_despite_small_talk
from bot.coach.presentation import TurnResult

# Actions that open a form for the message that called them: "continue", "start over",
# "change the first segment" are no answers to the form's questions.
FORM_OPENERS = ("action_resume", "action_start_over", "action_change_segment")


def resumed_this_turn(tracker: Tracker) -> bool:
    """Whether this message (re-)opened the form (after a pause, a "no" to deleting
    everything, "start over" or "change a segment") instead of answering its question."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") in FORM_OPENERS:
            return True
    return False


class InterviewValidation(FormValidationAction, ABC):
    """A form's validation that does not read the message which re-opened the form as
    an answer. Rasa re-validates the answers given before the pause when the form opens
    again; read against this message ("no, keep it"), they would be overwritten."""

    @abstractmethod
    def name(self) -> Text:  # abstract, so the action server does not register this class
        ...

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if resumed_this_turn(tracker):
            return []  # the answers stand as they were
        answers = tracker.slots_to_validate()
        asked = tracker.get_slot("requested_slot")
        # domain.yml's from_text skips a greeting or a pause; the question asked decides whether
        # this one ("Hello Fresh Bakes", "Later Labs") is the answer all the same.
        if (
            asked
            and asked not in answers
            and answers_despite_small_talk(asked, latest_text(tracker), latest_intent(tracker))
        ):
            answers = {**answers, asked: latest_text(tracker)}
        return await self.read_answers(dispatcher, tracker, domain, answers)

    async def read_answers(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, answers: Dict[Text, Any]
    ) -> List[EventType]:
        """Each answer through its validate_<slot> method (as FormValidationAction does)."""
        slots: Dict[Text, Any] = dict(answers)
        for slot, value in answers.items():
            validate = getattr(self, f"validate_{slot}", None)
            if validate is not None:
                slots.update(validate(value, dispatcher, tracker, domain))
        return [SlotSet(name, value) for name, value in slots.items()]


def read(dispatcher: CollectingDispatcher, result: TurnResult) -> Dict[Text, Any]:
    """A slot validation's answer: the slots the coach read, after telling any problem."""
    for message in result.messages:
        dispatcher.utter_message(text=message.text)
    return result.slots


class ValidateVentureForm(InterviewValidation):
    def name(self) -> Text:
        return "validate_venture_form"

    def validate_venture_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return read(dispatcher, interview.read_venture_name(value))

    def validate_venture_offer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return read(dispatcher, interview.read_venture_offer(value))


class ValidateSegmentForm(InterviewValidation):
    """Reads each answer, and fills every other question the answer already covers."""

    def name(self) -> Text:
        return "validate_segment_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # The interview file decides what the form asks (tests/test_interview.py holds domain.yml's
        # list equal); a question asked only to confirm what was heard waits until something is.
        return interview.questions_to_ask(
            tracker.get_slot("segment_facts") or {},
            {name: tracker.get_slot(name) for name in interview.interview_of().segment_slots},
        )

    async def read_answers(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, answers: Dict[Text, Any]
    ) -> List[EventType]:
        result = interview.read_segment_message(
            answers,
            latest_text(tracker),
            tracker.latest_message.get("entities") or [],
            latest_intent(tracker),
            tracker.get_slot("segment_facts") or {},
            {name: tracker.get_slot(name) for name in interview.interview_of().segment_slots},
            notes=tracker.get_slot("interview_notes"),
            number=interview.segment_number(tracker.get_slot("editing_segment"), len(segments_of(tracker))),
        )
        return deliver(dispatcher, tracker, result)


class ActionAskSegmentWho(Action):
    def name(self) -> Text:
        return "action_ask_segment_who"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(
            dispatcher, tracker, interview.ask_who(tracker.get_slot("editing_segment"), len(segments_of(tracker)))
        )


class ActionVentureDone(Action):
    def name(self) -> Text:
        return "action_venture_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, interview.venture_done(tracker.get_slot("venture_name")))


class ActionSaveSegment(Action):
    """Keeps the segment just described; a redone segment goes back to its place."""

    def name(self) -> Text:
        return "action_save_segment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(
            dispatcher,
            tracker,
            interview.save_segment(
                tracker.get_slot("segment_facts") or {}, segments_of(tracker), tracker.get_slot("editing_segment")
            ),
        )


class ActionAskSegmentQuestion(Action, ABC):
    """Asks one segment question as interview.yml words it, or, when its answer was
    mentioned in passing, names what was heard so the founder confirms it."""

    slot: Text = ""

    @abstractmethod
    def name(self) -> Text:  # abstract, so the action server does not register this class
        ...

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return deliver(dispatcher, tracker, interview.ask_question(self.slot, tracker.get_slot("segment_facts") or {}))


# One action per question that confirms what was heard (domain.yml lists them).
ASK_ACTIONS = {
    slot: type(
        f"ActionAsk_{slot}",
        (ActionAskSegmentQuestion,),
        {"slot": slot, "name": lambda self: f"action_ask_{self.slot}"},
    )
    for slot, question in interview.interview_of().segment.items()
    if question.in_passing == "confirm"
}
