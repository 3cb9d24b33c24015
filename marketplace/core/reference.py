"""Reference lists shared by profiles, tasks and matching."""
from __future__ import annotations

CHANNELS: dict[str, str] = {
    "chat": "Chat",
    "email": "Email",
    "phone": "Phone",
    "video": "Video",
    "social": "Social media",
}

# ISO 639-1 codes of the languages support work is most often asked in.
LANGUAGES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German",
    "it": "Italian", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "ro": "Romanian", "cs": "Czech", "el": "Greek",
    "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic", "he": "Hebrew",
    "hi": "Hindi", "bn": "Bengali", "ur": "Urdu", "id": "Indonesian", "ms": "Malay",
    "tl": "Tagalog", "vi": "Vietnamese", "th": "Thai", "zh": "Chinese (Mandarin)",
    "ja": "Japanese", "ko": "Korean", "sw": "Swahili",
}

# CEFR levels plus native; the rank orders them for "at least" filters.
PROFICIENCIES: dict[str, str] = {
    "A1": "A1 — beginner", "A2": "A2 — elementary", "B1": "B1 — intermediate",
    "B2": "B2 — upper intermediate", "C1": "C1 — advanced", "C2": "C2 — proficient",
    "native": "Native",
}
PROFICIENCY_RANK: dict[str, int] = {code: rank for rank, code in enumerate(PROFICIENCIES, start=1)}

SKILL_KINDS: dict[str, str] = {
    "tool": "Tools", "technical": "Technical", "soft": "Soft skills", "domain": "Domain",
}
SKILL_LEVELS: dict[int, str] = {1: "1 — learning", 2: "2 — working", 3: "3 — solid",
                                4: "4 — advanced", 5: "5 — expert"}

INDUSTRIES = ["E-commerce", "SaaS", "Fintech", "Telecom", "Healthcare", "Travel & hospitality",
              "Gaming", "Education", "Consumer electronics", "Logistics", "Non-profit", "Other"]
COMPANY_SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]


# "Speaks it well enough to work in it": matching's hard filter on a task's languages.
WORKING_LANGUAGE_LEVELS = ("B2", "C1", "C2", "native")


# Bit masks stored on specialist profiles so matching filters with one indexed-row check.
# Bit positions follow the order of LANGUAGES and CHANNELS: only ever append to those dicts
# (migration 0005 froze the order it backfilled with).
def language_mask(spoken: dict[str, str]) -> int:
    """Bits of the languages spoken at a working level (language code -> proficiency)."""
    order = list(LANGUAGES)
    return sum(1 << order.index(code) for code, level in spoken.items()
               if code in LANGUAGES and level in WORKING_LANGUAGE_LEVELS)


def required_language_mask(codes) -> int:
    order = list(LANGUAGES)
    return sum(1 << order.index(code) for code in set(codes) if code in LANGUAGES)


def channel_mask(codes) -> int:
    order = list(CHANNELS)
    return sum(1 << order.index(code) for code in set(codes) if code in CHANNELS)

# What each role is called on pages (the stored value "freelancer" reads "specialist" in the product).
ROLE_NAMES = {"business": "business", "freelancer": "specialist", "operator": "operator"}
