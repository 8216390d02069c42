"""The event catalogue: every activity type we accept, versioned, with its payload schema.

Payload schemas keep fields they do not know (``unknown = INCLUDE``): senders add fields
before we read them, and dropping them would lose history a later rule may want.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from marshmallow import INCLUDE, Schema, fields, validate

from ..privacy.tombstones import member_hash

EVIDENCE_LEVELS = ("claimed", "tracked", "verified", "confirmed")
OBJECT_KEY_MAX = 512  # the object_key columns of activity_event and award


def evidence_rank(level: str) -> int:
    return EVIDENCE_LEVELS.index(level)


class Payload(Schema):
    class Meta:
        unknown = INCLUDE


class MemberSignedUp(Payload):
    via = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "'email', or the social provider used: google, facebook, x ..."},
    )
    referral_code = fields.String(validate=validate.Length(1, 128))
    tier = fields.String(validate=validate.Length(1, 64))


class SocialShared(Payload):
    network = fields.String(required=True, validate=validate.Length(1, 64))
    url = fields.Url(required=True, validate=validate.Length(max=2048))
    content_id = fields.String(validate=validate.Length(1, 256))
    share_code = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9]{1,16}$"),
        metadata={
            "description": "The member's tracked share link code (/s/<code>) the post carries: "
            "once the link gets its first distinct human clicks, Loyalty Social records "
            "social.share_verified (tracked evidence)"
        },
    )


class SocialFollowed(Payload):
    network = fields.String(required=True, validate=validate.Length(1, 64))
    account = fields.String(
        required=True,
        validate=validate.Length(1, 256),
        metadata={"description": "The brand account followed."},
    )


class SocialMentioned(Payload):
    network = fields.String(required=True, validate=validate.Length(1, 64))
    post_url = fields.Url(required=True, validate=validate.Length(max=2048))
    reach = fields.Integer(
        validate=validate.Range(min=0),
        metadata={"description": "The post's audience (followers, views) when the source knows it"},
    )


class ContentPublished(Payload):
    platform = fields.String(required=True, validate=validate.Length(1, 64))
    content_id = fields.String(required=True, validate=validate.Length(1, 256))
    media = fields.String(
        required=True,
        validate=validate.OneOf(["photo", "video", "article"]),
        metadata={"description": "photo, video or article"},
    )
    url = fields.Url(validate=validate.Length(max=2048))
    sku = fields.String(validate=validate.Length(1, 128))


class CommunityPosted(Payload):
    community = fields.String(required=True, validate=validate.Length(1, 64))
    post_id = fields.String(required=True, validate=validate.Length(1, 256))
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["post", "answer", "comment"]),
        metadata={"description": "post, answer or comment"},
    )
    text_length = fields.Integer(validate=validate.Range(min=0))
    accepted_answer = fields.Boolean(load_default=False)


class ReviewPublished(Payload):
    review_id = fields.String(required=True, validate=validate.Length(1, 256))
    platform = fields.String(required=True, validate=validate.Length(1, 64))
    sku = fields.String(required=True, validate=validate.Length(1, 128))
    product_name = fields.String(validate=validate.Length(max=512))
    rating = fields.Integer(required=True, validate=validate.Range(1, 5))
    text_length = fields.Integer(required=True, validate=validate.Range(min=0))
    verified_purchase = fields.Boolean(load_default=False)


class ReviewRemoved(Payload):
    review_id = fields.String(required=True, validate=validate.Length(1, 256))
    platform = fields.String(required=True, validate=validate.Length(1, 64))
    reason = fields.String(validate=validate.Length(max=512))


class CommunityMilestone(Payload):
    name = fields.String(
        required=True,
        validate=validate.Length(1, 128),
        metadata={"description": "e.g. steps_goal, posts, badge"},
    )
    value = fields.Float(required=True, allow_nan=False)
    unit = fields.String(validate=validate.Length(1, 32))


class ReferralConverted(Payload):
    referral_code = fields.String(required=True, validate=validate.Length(1, 128))
    referred_member_id = fields.String(required=True, validate=validate.Length(1, 128))


class ShareVerified(Payload):
    share_code = fields.String(required=True, validate=validate.Length(1, 16))
    network = fields.String(required=True, validate=validate.Length(1, 64))
    url = fields.String(required=True, validate=validate.Length(1, 2048))
    shared_event_id = fields.String(required=True, validate=validate.Length(1, 40))
    clicks = fields.Integer(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "Distinct human clicks when the share was verified"},
    )


class ReferralAttributed(Payload):
    share_code = fields.String(required=True, validate=validate.Length(1, 16))
    referred_member_id = fields.String(required=True, validate=validate.Length(1, 128))
    via = fields.String(
        required=True,
        validate=validate.OneOf(["member.signed_up", "referral.converted"]),
        metadata={"description": "The event that carried the referral"},
    )
    review = fields.String(
        validate=validate.Length(1, 512),
        metadata={"description": "Why the referral's rewards wait for review (velocity)"},
    )


class MemberUpdated(Payload):
    tier = fields.String(validate=validate.Length(1, 64))
    attributes = fields.Dict(keys=fields.String())


class AdvocateLevelChanged(Payload):
    level = fields.String(required=True, validate=validate.Length(1, 32))
    previous = fields.String(required=True, validate=validate.Length(1, 32))
    score = fields.Integer(required=True, validate=validate.Range(min=0))
    direction = fields.String(required=True, validate=validate.OneOf(("up", "down")))


class SocialLinked(Payload):
    provider = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "The provider's configured name: google, facebook, x ..."},
    )
    subject = fields.String(
        required=True,
        validate=validate.Length(1, 255),
        metadata={"description": "The member's stable id at that provider"},
    )


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[Schema]
    description: str
    # The object an event is about, for reversals and once-per-object limits.
    object_key: Callable[[dict], str | None]
    example: dict
    # Recorded by Loyalty Social itself only: senders cannot send it (it proves something).
    internal_only: bool = False

    @cached_property
    def _loader(self) -> Schema:
        return self.schema()

    def load(self, data: dict) -> dict:
        """Validate a payload with one schema instance per type (building one costs a load)."""
        return self._loader.load(data)


CATALOGUE: dict[tuple[str, int], EventType] = {}


def bounded_key(key: str | None) -> str | None:
    """An object key that fits its column: a longer one (a 600-character share URL) keeps its
    readable start and ends with a hash of the whole, so the same object always gets the same
    key (reversals and once-per-object limits still match) and no two differ by the cut."""
    if key is None or len(key) <= OBJECT_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: OBJECT_KEY_MAX - 72]}#sha256:{digest}"


def referral_key(referred_member_id: str) -> str:
    """The object key of a referral: one per referred member, naming them only by the keyed
    hash the tombstones use, so the sharer's award (and what was delivered about it) keeps no
    other member's id, and an erasure leaves nothing there to remove."""
    return f"referral:{member_hash(referred_member_id)}"


def _register(name, version, schema, description, object_key, example, internal_only=False):
    def key(data: dict) -> str | None:
        return bounded_key(object_key(data))

    CATALOGUE[(name, version)] = EventType(
        name, version, schema, description, key, example, internal_only
    )


_register(
    "member.signed_up",
    1,
    MemberSignedUp,
    "A member joined the loyalty program (through a social provider or not).",
    lambda d: None,
    {"via": "google", "referral_code": "FRIEND-42"},
)
_register(
    "social.shared",
    1,
    SocialShared,
    "A member shared brand content on a social network.",
    lambda d: f"share:{d['network']}:{d['url']}",
    {"network": "facebook", "url": "https://shop.example/p/123", "content_id": "post-987"},
)
_register(
    "social.followed",
    1,
    SocialFollowed,
    "A member followed a brand account.",
    lambda d: f"follow:{d['network']}:{d['account']}",
    {"network": "x", "account": "@examplebrand"},
)
_register(
    "social.mentioned",
    1,
    SocialMentioned,
    "A member mentioned the brand in a public post (reported by a social-listening platform).",
    lambda d: f"mention:{d['network']}:{d['post_url']}",
    {"network": "instagram", "post_url": "https://social.example/p/abc", "reach": 1800},
)
_register(
    "content.published",
    1,
    ContentPublished,
    "A member published their own content about the brand: a photo, video or article.",
    lambda d: f"content:{d['platform']}:{d['content_id']}",
    {"platform": "ugc-gallery", "content_id": "ph-77", "media": "photo", "sku": "SKU-123"},
)
_register(
    "community.posted",
    1,
    CommunityPosted,
    "A member posted, answered or commented in the brand's community.",
    lambda d: f"community:{d['community']}:{d['post_id']}",
    {"community": "forum", "post_id": "t-5521", "kind": "answer", "text_length": 640},
)
_register(
    "review.published",
    1,
    ReviewPublished,
    "A member's product review went live on a review platform.",
    lambda d: f"review:{d['platform']}:{d['review_id']}",
    {
        "review_id": "rv-1001",
        "platform": "trustreviews",
        "sku": "SKU-123",
        "rating": 5,
        "text_length": 420,
        "verified_purchase": True,
    },
)
_register(
    "review.removed",
    1,
    ReviewRemoved,
    "A review was taken down; any points it earned are clawed back.",
    lambda d: f"review:{d['platform']}:{d['review_id']}",
    {"review_id": "rv-1001", "platform": "trustreviews", "reason": "moderation"},
)
_register(
    "community.milestone",
    1,
    CommunityMilestone,
    "A member reached a community milestone (steps goal, 10th post, a badge ...).",
    lambda d: f"milestone:{d['name']}:{d['value']}",
    {"name": "steps_goal", "value": 10000, "unit": "steps"},
)
_register(
    "referral.converted",
    1,
    ReferralConverted,
    "Someone the member referred became a member.",
    lambda d: referral_key(d["referred_member_id"]),
    {"referral_code": "FRIEND-42", "referred_member_id": "M-2002"},
)
_register(
    "member.updated",
    1,
    MemberUpdated,
    "The loyalty backend changed the member's tier or attributes.",
    lambda d: None,
    {"tier": "gold", "attributes": {"country": "DE"}},
)
_register(
    "advocate.level_changed",
    1,
    AdvocateLevelChanged,
    "A member's advocate level changed (ADVOCATE_LEVELS): recorded by Loyalty Social itself "
    "when their advocate score crosses a threshold, so rules can pay on reaching a level.",
    lambda d: f"advocate-level:{d['level']}",
    {"level": "champion", "previous": "advocate", "score": 230, "direction": "up"},
    internal_only=True,
)


_register(
    "social.linked",
    1,
    SocialLinked,
    "A member linked a social account (sent by Loyalty Social itself, once per member and "
    "provider: unlinking and relinking sends nothing new).",
    lambda d: f"linked:{d['provider']}",
    {"provider": "x", "subject": "1234567890"},
)


_register(
    "social.share_verified",
    1,
    ShareVerified,
    "A member's shared link got its first distinct human clicks (SHARE_VERIFY_CLICKS): the "
    "share is proven (evidence 'tracked'). Recorded by Loyalty Social itself, once per link.",
    lambda d: f"verified:{d['share_code']}",
    {
        "share_code": "k3J9xQ2mZa",
        "network": "facebook",
        "url": "https://shop.example/p/123",
        "shared_event_id": "evt_01JDEXAMPLE0000000000000000",
        "clicks": 3,
    },
    internal_only=True,
)
_register(
    "referral.attributed",
    1,
    ReferralAttributed,
    "Someone signed up through the member's share link, within the referral window, and "
    "passed the self-referral checks. Recorded by Loyalty Social itself for the sharer, once "
    "per referred member; with `review`, its rewards are held for approval.",
    lambda d: referral_key(d["referred_member_id"]),
    {"share_code": "k3J9xQ2mZa", "referred_member_id": "M-2002", "via": "member.signed_up"},
    internal_only=True,
)


def review_reason(event) -> str | None:
    """Why an event's rewards must wait for a marketer: only events we record ourselves can
    say so (a sender cannot hold or release anything this way)."""
    event_type = CATALOGUE.get((event.type, 1))
    if event_type is None or not event_type.internal_only:
        return None
    return (event.data or {}).get("review")


def sender_types() -> list[str]:
    """The types senders may send (the webhooks/ contract)."""
    return sorted({t.name for t in CATALOGUE.values() if not t.internal_only})


def known_types() -> list[str]:
    return sorted({name for name, _ in CATALOGUE})


def lookup(name: str, version: int) -> EventType | None:
    return CATALOGUE.get((name, version))
