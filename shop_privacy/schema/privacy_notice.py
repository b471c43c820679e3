"""Who is responsible for the customer's data and where to complain (P01, P28)."""

from __future__ import annotations

import strawberry

from ..settings import Settings


@strawberry.type(description="The controller, its data protection officer, and the supervisory authority.")
class PrivacyNotice:
    controller: str
    dpo_email: str = strawberry.field(description="Questions about personal data go here (the DPO).")
    supervisory_authority: str = strawberry.field(
        description="Where a customer can complain about how their data is handled."
    )
    policy_version: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyNotice:
        return cls(controller=settings.controller_name, dpo_email=settings.dpo_email,
                   supervisory_authority=settings.supervisory_authority, policy_version=settings.policy_version)
