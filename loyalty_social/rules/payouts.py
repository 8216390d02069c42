"""What a rule pays: a registry of reward kinds (name -> class), validated on save.

A rule lists one or more rewards. Point rewards (``fixed``, ``formula``) add up; multipliers
(``tier_multiplier``, and the rule's evidence scale) apply to that sum; ``offer`` grants an
early-access offer. Points are whole numbers: the product is rounded down, once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..intake.catalogue import EVIDENCE_LEVELS, evidence_rank
from .vocabulary import MISSING, is_int, is_number, validate_field

MAX_POINTS = 1_000_000


@dataclass
class Payout:
    """The computed reward of one rule for one event, with how it was reached."""

    points: int = 0
    offers: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


class RewardKind:
    kind = ""

    @classmethod
    def validate(cls, spec: dict, pointer: str, data_fields, errors) -> None:
        raise NotImplementedError

    def __init__(self, spec: dict):
        # JSON may say 10.0 for 10: validation accepted whole numbers, arithmetic wants ints.
        self.spec = {
            k: int(v) if k in ("points", "cap") and isinstance(v, float) else v
            for k, v in spec.items()
        }


class Fixed(RewardKind):
    """``{"kind": "fixed", "points": 10}``"""

    kind = "fixed"

    @classmethod
    def validate(cls, spec, pointer, data_fields, errors):
        _allow(spec, {"points"}, pointer, errors)
        points = spec.get("points")
        if not is_int(points) or not 1 <= points <= MAX_POINTS:
            errors.setdefault(pointer + "/points", []).append(
                f"points must be a whole number from 1 to {MAX_POINTS}"
            )

    def base(self, facts, payout: Payout) -> int:
        payout.steps.append(f"{self.spec['points']} points")
        return self.spec["points"]


class Formula(RewardKind):
    """``{"kind": "formula", "field": "data.value", "per": 1000, "points": 1, "cap": 50}``:
    ``points`` for every whole ``per`` of the field's value, at most ``cap``."""

    kind = "formula"

    @classmethod
    def validate(cls, spec, pointer, data_fields, errors):
        _allow(spec, {"field", "per", "points", "cap"}, pointer, errors)
        validate_field(spec.get("field"), pointer + "/field", data_fields, errors)
        if not str(spec.get("field", "")).startswith("data."):
            errors.setdefault(pointer + "/field", []).append("a formula reads a data.<field>")
        per = spec.get("per", 1)
        if not is_number(per) or not 0 < per <= 1e12:
            errors.setdefault(pointer + "/per", []).append("per must be a number above 0")
        points = spec.get("points", 1)
        if not is_int(points) or not 1 <= points <= MAX_POINTS:
            errors.setdefault(pointer + "/points", []).append(
                f"points must be a whole number from 1 to {MAX_POINTS}"
            )
        cap = spec.get("cap")
        if not is_int(cap) or not 1 <= cap <= MAX_POINTS:
            errors.setdefault(pointer + "/cap", []).append(
                "a formula needs a cap: a whole number of points from 1"
            )

    def base(self, facts, payout):
        value = facts.get(self.spec["field"])
        if value is MISSING or not is_number(value) or not math.isfinite(value):
            payout.steps.append(f"{self.spec['field']} missing: 0 points")
            return 0
        per, points, cap = self.spec.get("per", 1), self.spec.get("points", 1), self.spec["cap"]
        raw = max(0, math.floor(value / per)) * points
        result = min(raw, cap)
        payout.steps.append(
            f"{points} per {per} of {self.spec['field']} ({value}) = {raw}"
            + (f", capped at {cap}" if raw > cap else "")
        )
        return result


class TierMultiplier(RewardKind):
    """``{"kind": "tier_multiplier", "tiers": {"gold": 1.5, "platinum": 2}}``"""

    kind = "tier_multiplier"

    @classmethod
    def validate(cls, spec, pointer, data_fields, errors):
        _allow(spec, {"tiers"}, pointer, errors)
        tiers = spec.get("tiers")
        if (
            not isinstance(tiers, dict)
            or not tiers
            or not all(is_number(v) and 0 <= v <= 100 for v in tiers.values())
        ):
            errors.setdefault(pointer + "/tiers", []).append(
                "tiers must map tier names to factors from 0 to 100"
            )

    def factor(self, facts, payout) -> float:
        tier = facts.get("member.tier")
        factor = self.spec["tiers"].get(tier, 1) if isinstance(tier, str) else 1
        if factor != 1:
            payout.steps.append(f"x{factor} for tier {tier}")
        return factor


class OfferReward(RewardKind):
    """``{"kind": "offer", "offer_id": "ofr_..."}``: early access to an offer."""

    kind = "offer"

    @classmethod
    def validate(cls, spec, pointer, data_fields, errors):
        _allow(spec, {"offer_id"}, pointer, errors)
        offer_id = spec.get("offer_id")
        if not isinstance(offer_id, str) or not 1 <= len(offer_id) <= 40:
            errors.setdefault(pointer + "/offer_id", []).append("offer_id is required")


REWARD_KINDS: dict[str, type[RewardKind]] = {
    cls.kind: cls for cls in (Fixed, Formula, TierMultiplier, OfferReward)
}


def _allow(spec, keys, pointer, errors):
    extra = set(spec) - keys - {"kind"}
    if extra:
        errors.setdefault(pointer, []).append(f"unknown keys: {', '.join(sorted(extra))}")


def validate_rewards(rewards, data_fields, pointer="/rewards") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(rewards, list) or not rewards:
        errors[pointer] = ["a rule needs at least one reward"]
        return errors
    for index, spec in enumerate(rewards):
        here = f"{pointer}/{index}"
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if not isinstance(kind, str) or kind not in REWARD_KINDS:
            errors.setdefault(here + "/kind", []).append(
                f"kind must be one of {', '.join(REWARD_KINDS)}"
            )
            continue
        REWARD_KINDS[spec["kind"]].validate(spec, here, data_fields, errors)
    return errors


def validate_evidence_scale(scale, pointer="/evidence/scale") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if scale is None:
        return errors
    if not isinstance(scale, dict) or not scale:
        errors[pointer] = ["scale must map evidence levels to factors"]
        return errors
    for level, factor in scale.items():
        if level not in EVIDENCE_LEVELS:
            errors.setdefault(f"{pointer}/{level}", []).append(
                f"unknown evidence level; one of {', '.join(EVIDENCE_LEVELS)}"
            )
        elif not is_number(factor) or not 0 <= factor <= 100:
            errors.setdefault(f"{pointer}/{level}", []).append("factor must be from 0 to 100")
    return errors


class RewardPlan:
    """A rule's rewards, compiled: compute the payout for one event."""

    def __init__(self, rewards: list[dict], evidence_scale: dict | None):
        self.points = [REWARD_KINDS[s["kind"]](s) for s in rewards if s["kind"] in POINTS]
        self.multipliers = [TierMultiplier(s) for s in rewards if s["kind"] == "tier_multiplier"]
        self.offers = [s["offer_id"] for s in rewards if s["kind"] == "offer"]
        # Evidence factors by level rank: an event uses its level's factor, or the nearest
        # listed level below it (nothing listed below: 1).
        scale = evidence_scale or {}
        self.evidence = sorted((evidence_rank(k), v) for k, v in scale.items())

    def evidence_factor(self, level: str) -> float:
        rank = evidence_rank(level)
        factor = 1
        for listed_rank, value in self.evidence:
            if listed_rank <= rank:
                factor = value
        return factor

    def compute(self, facts, evidence: str) -> Payout:
        payout = Payout()
        total = sum(kind.base(facts, payout) for kind in self.points)
        factor = 1.0
        for multiplier in self.multipliers:
            factor *= multiplier.factor(facts, payout)
        if self.evidence:
            scale = self.evidence_factor(evidence)
            if scale != 1:
                payout.steps.append(f"x{scale} for {evidence} evidence")
            factor *= scale
        payout.points = min(MAX_POINTS, math.floor(total * factor + 1e-9))
        payout.offers = list(self.offers)
        return payout

    def nominal_points(self) -> int:
        """The points before formulas and multipliers (the rule's summary column)."""
        return sum(k.spec.get("points", 0) for k in self.points if k.kind == "fixed")


POINTS = ("fixed", "formula")
