"""What the rules' batch tells advocates, in the batch's transaction and before its rules run:
a share that names its link, a conversion that names a referral. Each handler returns the id
of an internal event it recorded (social.share_verified, referral.attributed), which the batch
dispatches after its commit. Each is once-only by a unique key, so a batch that runs again
changes nothing."""

from __future__ import annotations

from .referrals import attribute
from .verification import attach_share

HANDLERS = {
    "social.shared": attach_share,
    "member.signed_up": attribute,
    "referral.converted": attribute,
}


def observe(events) -> list[str]:
    recorded = []
    for event in events:
        handler = HANDLERS.get(event.type)
        if handler is not None and event.outcome is None:  # first processing only
            event_id = handler(event)
            if event_id:
                recorded.append(event_id)
    return recorded
