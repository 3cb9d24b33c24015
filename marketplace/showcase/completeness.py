"""How complete a specialist's profile is, and the one next step that helps most."""
from __future__ import annotations

from dataclasses import dataclass

from marketplace.profiles.models import FreelancerProfile

MIN_BIO = 120       # characters: a few sentences about how you work
MIN_SKILLS = 3


@dataclass(frozen=True)
class Step:
    key: str
    label: str          # what to do, as a button would say it
    why: str
    done: bool


@dataclass(frozen=True)
class Completeness:
    steps: list[Step]

    @property
    def percent(self) -> int:
        return round(100 * sum(s.done for s in self.steps) / len(self.steps))

    @property
    def next_step(self) -> Step | None:
        return next((s for s in self.steps if not s.done), None)

    @property
    def is_complete(self) -> bool:
        return self.next_step is None


def completeness(profile: FreelancerProfile) -> Completeness:
    """In the order that matters to a business choosing someone (the first missing one is the next step)."""
    return Completeness(steps=[
        Step("headline", "Write a headline", "The first line businesses read in search results.",
             bool(profile.headline)),
        Step("rate", "Set your hourly rate", "Profiles without a rate are not listed.", bool(profile.hourly_rate)),
        Step("skills", f"Add at least {MIN_SKILLS} skills with levels", "Matching starts from skills.",
             len(profile.skills) >= MIN_SKILLS),
        Step("languages", "Add your languages", "Tasks filter on language level.", bool(profile.languages)),
        Step("channels", "Choose your channels", "Chat, email, phone, video or social.", bool(profile.channels)),
        Step("photo", "Upload a photo", "People hire people: a friendly face builds trust.",
             bool(profile.user.avatar_token)),
        Step("bio", "Tell businesses how you work", f"A bio of {MIN_BIO}+ characters about your approach.",
             len(profile.bio or "") >= MIN_BIO),
        Step("payout", "Connect your payout account", "So you're paid as soon as work is approved.",
             profile.payout_status == "ready"),
    ])
