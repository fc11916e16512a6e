"""The selection engine: from a segment profile to ranked relationship types.

Deterministic and explainable: every rule in rules.yml whose conditions hold
adds its weights; a type's score is the sum, its reasons are the rules that
raised it. Nothing here knows about particular types or companies; that is
all in the knowledge files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import zip_longest
from typing import Any, Collection, Dict, List, Optional, Sequence, Tuple

from bot.coach.knowledge import Knowledge, all_hold, load_knowledge
from bot.coach.profile import SegmentProfile

# Warning codes of check_block (their messages live in checks.yml).
COST_VS_VALUE = "cost_vs_value"
NO_MEETING_PLACE = "no_meeting_place"
NO_RETENTION = "no_retention"

TOP_N = 3  # the missing-answer probe measures how much these first places change
# A rule's reason belongs to the types it raises by at least this share of its largest
# weight; under any other type it raised, it is shown as shared ("also: ...").
OWNER_SHARE = 0.5
SHARED = "also: "


@dataclass
class Recommendation:
    type_id: str
    name: str
    score: float
    reasons: List[str]  # the `because` of each rule that raised the score, strongest first
    cost_caveat: Optional[str]
    tactics: Dict[str, List[str]]  # acquire / keep / grow
    touchpoints: List[str]  # ids: the segment's own that suit the type, then the type's typical ones
    kpis: List[str]  # kpi names
    cautions: List[str] = field(default_factory=list)  # rules that lowered the score, strongest first
    # Every rule that raised or lowered the score, in rules.yml's order:
    # {"id", "because" (as shown: "also: ..." when shared), "weight", "own"}
    rules: List[Dict[str, Any]] = field(default_factory=list)
    # A block check this type fails for the segment: its code, its fix in one sentence, the
    # touchpoints that would fix it, and whether it was moved below the types that pass.
    check: Optional[Dict[str, Any]] = None

    @property
    def own_reasons(self) -> List[str]:
        return [r for r in self.reasons if not r.startswith(SHARED)]

    @property
    def fix(self) -> Optional[str]:
        return self.check["fix"] if self.check else None


@dataclass
class MissingAnswer:
    field: str
    question: str
    why: str


@dataclass
class Advice:
    recommendations: List[Recommendation]  # best first; only types with a positive score
    most_informative_missing: Optional[MissingAnswer]


@dataclass
class BlockWarning:
    code: str
    segment_index: Optional[int]  # None when the warning is about the whole block
    message: str


@dataclass
class _Scored:
    type_id: str
    score: float
    reasons: List[str]  # its own, strongest first, then the shared ones ("also: ...")
    cautions: List[str]
    rules: List[Dict[str, Any]]
    strongest: float = 0.0  # the largest weight a rule of its own gave it
    check: Optional[Dict[str, Any]] = None


def recommend(
    profile: SegmentProfile,
    knowledge: Optional[Knowledge] = None,
    limit: Optional[int] = None,
    askable: Optional[Collection[str]] = None,
) -> Advice:
    """Rank the relationship types for one segment, with reasons and the question worth asking next.

    askable: the profile fields the coach can still ask about; the missing answer it
    names is one of them (all fields when None)."""
    kb = knowledge or load_knowledge()
    ranked = _rank(profile, kb)
    _own_first_reasons(ranked)
    recommendations = [_recommendation(s, profile, kb) for s in ranked[:limit]]
    top = [s.type_id for s in ranked[:TOP_N]]
    return Advice(recommendations, _most_informative_missing(profile, kb, top, askable))


def fixes(profile: SegmentProfile, type_ids: Sequence[str], knowledge: Optional[Knowledge] = None) -> Dict[str, str]:
    """type id -> the one sentence that fixes its failing block check for this segment."""
    kb = knowledge or load_knowledge()
    return {
        tid: (kb.checks.cost_fix if code == COST_VS_VALUE else kb.checks.meeting_fix)
        for code, tid, _ in reversed(_segment_problems(profile, type_ids, kb))
    }


def owns(rule_weights: Dict[str, float], type_id: str) -> bool:
    """Whether a rule's reason is the type's own: the rule raises it by at least
    OWNER_SHARE of the most it raises any type."""
    most = max((w for w in rule_weights.values() if w > 0), default=0.0)
    return rule_weights.get(type_id, 0.0) > 0 and rule_weights[type_id] >= OWNER_SHARE * most


def _rank(profile: SegmentProfile, kb: Knowledge) -> List[_Scored]:
    """Best first. A type whose block check fails for this segment comes after every type
    that passes, unless the founder's answers call for it (checks.yml: a rule of its own
    raised it by at least the check's `keeps_rank_at`): then it keeps its place. A type
    with no reason of its own (only rules made for other types raised it) comes after
    every type that has one."""
    totals = {tid: 0.0 for tid in kb.types}
    pros: Dict[str, List[Tuple[float, int, str]]] = {tid: [] for tid in kb.types}
    shared: Dict[str, List[Tuple[float, int, str]]] = {tid: [] for tid in kb.types}
    cons: Dict[str, List[Tuple[float, int, str]]] = {tid: [] for tid in kb.types}
    fired: Dict[str, List[Dict[str, Any]]] = {tid: [] for tid in kb.types}
    strongest = {tid: 0.0 for tid in kb.types}
    excluded = set()
    for order, rule in enumerate(kb.rules):
        if not rule.fires(profile):
            continue
        for tid, weight in rule.then.items():
            totals[tid] += weight
            if not weight:
                continue
            own = weight < 0 or owns(rule.then, tid)
            because = rule.because if own else SHARED + rule.because
            if weight < 0:
                cons[tid].append((abs(weight), order, rule.because))
            elif own:
                pros[tid].append((weight, order, rule.because))
                strongest[tid] = max(strongest[tid], weight)
            else:
                shared[tid].append((weight, order, because))
            fired[tid].append({"id": rule.id, "because": because, "weight": weight, "own": own})
        excluded.update(rule.exclude)
    scores = {tid: round(total, 3) for tid, total in totals.items()}  # so float noise never breaks a tie
    scored = [
        _Scored(
            tid,
            scores[tid],
            _sentences(pros[tid]) + _sentences(shared[tid]),
            _sentences(cons[tid]),
            fired[tid],
            strongest[tid],
        )
        for tid in kb.types  # file order, kept for ties by the stable sort below
        if tid not in excluded and scores[tid] > 0
    ]
    problems = {
        tid: (code, detail)
        for code, tid, detail in reversed(_segment_problems(profile, [s.type_id for s in scored], kb))
    }
    for s in scored:
        if s.type_id in problems:
            code, _ = problems[s.type_id]
            keeps = kb.checks.keeps_rank_at.get(code)
            s.check = {
                "code": code,
                "fix": kb.checks.cost_fix if code == COST_VS_VALUE else kb.checks.meeting_fix,
                "touchpoints": list(kb.checks.meeting_fix_touchpoints) if code == NO_MEETING_PLACE else [],
                "demoted": keeps is None or s.strongest < keeps,
            }
    return sorted(
        scored,
        key=lambda s: (
            bool(s.check and s.check["demoted"]),
            not any(r.get("own") and r["weight"] > 0 for r in s.rules),
            -s.score,
        ),
    )


def _own_first_reasons(ranked: List[_Scored]) -> None:
    """Puts first, for each type, its strongest reason of its own that no better-ranked
    type shows first (self-service and automated services share some rules); when every
    one is taken, its strongest. Shared reasons ("also: ...") never come first."""
    taken = set()
    for scored in ranked:
        own = [r for r in scored.reasons if not r.startswith(SHARED)]
        if not own:
            continue
        first = next((r for r in own if r not in taken), own[0])
        scored.reasons.remove(first)
        scored.reasons.insert(0, first)
        taken.add(first)


def _sentences(fired: List[Tuple[float, int, str]]) -> List[str]:
    """Strongest first, then in rule order; a sentence said once."""
    return list(dict.fromkeys(because for _, _, because in sorted(fired, key=lambda f: (-f[0], f[1]))))


def _recommendation(s: _Scored, profile: SegmentProfile, kb: Knowledge) -> Recommendation:
    rtype = kb.types[s.type_id]
    own = [t for t in profile.touchpoints if t in rtype.touchpoints]
    return Recommendation(
        type_id=s.type_id,
        name=rtype.name,
        score=s.score,
        reasons=s.reasons,
        cost_caveat=rtype.cost_caveat or None,
        tactics={stage: list(items) for stage, items in rtype.tactics.items()},
        touchpoints=own + [t for t in rtype.touchpoints if t not in own],
        kpis=[kb.kpi_name(k) for k in rtype.kpis],
        cautions=s.cautions,
        rules=s.rules,
        check=s.check,
    )


def _most_informative_missing(
    profile: SegmentProfile, kb: Knowledge, top: List[str], askable: Optional[Collection[str]] = None
) -> Optional[MissingAnswer]:
    """The unknown answer whose possible values would, on average, move the top places most.

    None when every answer is known, or when no answer would change the top places.
    """
    unknown = set(profile.unknown_fields()) & set(askable if askable is not None else profile.unknown_fields())
    best, best_change = None, 0.0
    for name, question in kb.questions.items():  # file order breaks ties
        if name not in unknown or not question.probes:
            continue
        changes = []
        for value in question.probes:
            answered = _rank(replace(profile, **{name: value}), kb)
            changes.append(_top_change(top, [s.type_id for s in answered[:TOP_N]]))
        change = sum(changes) / len(changes)
        if change > best_change:
            best, best_change = question, change
    return MissingAnswer(best.field, best.question, best.why) if best else None


def _top_change(before: List[str], after: List[str]) -> float:
    """Types that left the top places count 1 each; each place now held by another type 0.25."""
    left = len(set(before) - set(after))
    moved = sum(1 for a, b in zip_longest(before, after) if a != b)
    return left + 0.25 * moved


def _segment_problems(profile: SegmentProfile, chosen: Sequence[str], kb: Knowledge) -> List[Tuple[str, str, str]]:
    """(warning code, type id, why or the touchpoints named) for each chosen type that fails a check
    for this segment, the cost checks first. Type ids the knowledge does not know are not judged."""
    checks = kb.checks
    known = [t for t in dict.fromkeys(chosen) if t in kb.types]
    problems: List[Tuple[str, str, str]] = []
    why = next((why for why, conditions in checks.cannot_carry if all_hold(conditions, profile)), None)
    if why:
        problems += [(COST_VS_VALUE, tid, why) for tid in known if kb.types[tid].cost_to_serve in checks.costs]
    places = [t for t in profile.touchpoints if t in kb.touchpoints]
    if not any(kb.touchpoints[t].meeting_place for t in places):
        named = ", ".join(kb.touchpoint_label(t).lower() for t in places) or "none named yet"
        problems += [(NO_MEETING_PLACE, tid, named) for tid in known if tid in checks.meeting_types]
    return problems


def check_block(
    segments: Sequence[Tuple[SegmentProfile, Sequence[str]]], knowledge: Optional[Knowledge] = None
) -> List[BlockWarning]:
    """Check a whole block: each segment with the type ids chosen for it.

    Type ids the knowledge does not know (a founder's own wording) are not judged.
    """
    kb = knowledge or load_knowledge()
    checks = kb.checks
    warnings: List[BlockWarning] = []
    for index, (profile, chosen) in enumerate(segments):
        label = profile.name or f"Segment {index + 1}"
        for code, tid, detail in _segment_problems(profile, chosen, kb):
            if code == COST_VS_VALUE:
                message = checks.cost_message.format(
                    segment=label, type=kb.type_name(tid), why=detail, fix=checks.cost_fix
                )
            else:
                message = checks.meeting_message.format(
                    segment=label, type=kb.type_name(tid), touchpoints=detail, fix=checks.meeting_fix
                )
            warnings.append(BlockWarning(code, index, message))
    chosen_anywhere = {t for _, chosen in segments for t in chosen if t in kb.types}
    if segments and not any(kb.types[t].retains for t in chosen_anywhere):
        names = [kb.type_name(t).lower() for t in checks.retention_suggestions]
        suggestions = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        warnings.append(BlockWarning(NO_RETENTION, None, checks.retention_message.format(suggestions=suggestions)))
    return warnings
