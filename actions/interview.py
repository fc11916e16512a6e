"""The venture and segment interviews: forms' validation and their endings."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import block_of, entity_values, save_draft, segments_of, segments_slot
from bot.coach import conversation as coach
from bot.coach.canvas import Segment
from bot.coach.extract import extract_facts, split_venture


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

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        if resumed_this_turn(tracker):
            return []  # the answers stand as they were
        return await self.read_answers(dispatcher, tracker, domain)

    async def read_answers(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> List[EventType]:
        return await super().get_validation_events(dispatcher, tracker, domain)


class ValidateVentureForm(InterviewValidation):
    def name(self) -> Text:
        return "validate_venture_form"

    def validate_venture_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        problem = coach.too_long(text) or (None if text else "I didn't get a name. What's your venture called?")
        if problem:
            dispatcher.utter_message(text=problem)
            return {"venture_name": None}
        # "It's called Brewbox, we deliver coffee to offices" answers both questions.
        name, offer = split_venture(text)
        return {"venture_name": name[:120], **({"venture_offer": offer} if offer else {})}

    def validate_venture_offer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        problem = coach.too_long(text) or (None if len(text) >= 3 else "Tell me in one line what you offer, and to whom.")
        if problem:
            dispatcher.utter_message(text=problem)
            return {"venture_offer": None}
        return {"venture_offer": text}


class ValidateSegmentForm(InterviewValidation):
    """Reads each answer, and fills every other question the answer already covers."""

    def name(self) -> Text:
        return "validate_segment_form"

    async def read_answers(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> List[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        typed = "" if text.startswith("/") else text  # a button's payload is not the founder's words
        events: List[EventType] = []
        facts = dict(tracker.get_slot("segment_facts") or {})
        for slot in tracker.slots_to_validate():
            question = coach.QUESTION_BY_SLOT.get(slot)
            if question is None:
                continue
            off_topic = (tracker.latest_message.get("intent") or {}).get("name") == "out_of_scope"
            reading = coach.read_answer(slot, typed, entity_values(tracker, question.entity), off_topic)
            if reading.problem:
                dispatcher.utter_message(text=reading.problem)
                events.append(SlotSet(slot, None))
                continue
            events.append(SlotSet(slot, reading.value))
            # Facts said in passing only fill gaps; the answer to this question may correct one.
            facts = coach.merge_facts(facts, extract_facts(typed))
            facts = coach.merge_facts(facts, reading.facts, answering=question.fields)
        if not events:
            return []
        filled = {name: tracker.get_slot(name) for name in coach.SEGMENT_SLOTS}
        filled.update({e["name"]: e["value"] for e in events})
        events += [SlotSet(name, value) for name, value in coach.prefill(facts, filled).items()]
        events.append(SlotSet("segment_facts", facts))
        return events


class ActionAskSegmentWho(Action):
    def name(self) -> Text:
        return "action_ask_segment_who"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        editing = tracker.get_slot("editing_segment")
        number = int(editing) + 1 if editing is not None else len(segments_of(tracker)) + 1
        dispatcher.utter_message(text=coach.ask_segment_who(number))
        return []


class ActionVentureDone(Action):
    def name(self) -> Text:
        return "action_venture_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=coach.segments_intro(tracker.get_slot("venture_name")))
        return [SlotSet("stage", "segments"), SlotSet("paused_form", None)]


class ActionSaveSegment(Action):
    """Keeps the segment just described; a redone segment goes back to its place."""

    def name(self) -> Text:
        return "action_save_segment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        profile = coach.build_profile(tracker.get_slot("segment_facts") or {})
        segments = segments_of(tracker)
        editing = tracker.get_slot("editing_segment")
        events: List[EventType] = [SlotSet(name, None) for name in
                                   (*coach.SEGMENT_SLOTS, "segment_facts", "editing_segment", "paused_form")]
        if editing is not None and int(editing) < len(segments) and not any(s.choices for s in segments):
            # Redone before any recommendation: back to "another segment?"
            segments[int(editing)] = Segment(profile)
            stage = "more_segments"
        elif editing is not None and int(editing) < len(segments):
            index = int(editing)
            advice = coach.recommend_segment(profile)
            segments[index] = Segment(profile, coach.choices_from_advice(advice))
            dispatcher.utter_message(text=coach.render_advice(index, profile, advice))
            stage = "review"
        else:
            segments.append(Segment(profile))
            stage = "more_segments"
        events.append(SlotSet("redoing_segment", None))
        events += [segments_slot(segments), SlotSet("stage", stage)]
        block = block_of(tracker)
        block.segments = segments
        save_draft(tracker, block)
        text, buttons = coach.pending_prompt(stage, None, saved_segment=profile.name)
        dispatcher.utter_message(text=text, buttons=buttons)
        return events
