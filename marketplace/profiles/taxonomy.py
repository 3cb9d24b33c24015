"""The skill taxonomy the platform ships with (slug, name, kind)."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.profiles.models import Skill

SKILLS: list[tuple[str, str, str]] = [
    # tools
    ("zendesk", "Zendesk", "tool"),
    ("salesforce-service-cloud", "Salesforce Service Cloud", "tool"),
    ("intercom", "Intercom", "tool"),
    ("freshdesk", "Freshdesk", "tool"),
    ("hubspot-service-hub", "HubSpot Service Hub", "tool"),
    ("gorgias", "Gorgias", "tool"),
    ("jira-service-management", "Jira Service Management", "tool"),
    ("shopify-admin", "Shopify admin", "tool"),
    # technical
    ("tier-1-troubleshooting", "Tier-1 troubleshooting", "technical"),
    ("tier-2-troubleshooting", "Tier-2 troubleshooting", "technical"),
    ("network-troubleshooting", "Network troubleshooting", "technical"),
    ("pc-configuration", "PC configuration", "technical"),
    ("mobile-device-support", "Mobile device support", "technical"),
    ("api-integration-support", "API and integration support", "technical"),
    ("sql-basics", "SQL for support", "technical"),
    ("smart-home-setup", "Smart home setup", "technical"),
    # soft
    ("de-escalation", "De-escalation", "soft"),
    ("active-listening", "Active listening", "soft"),
    ("bilingual-support", "Bilingual support", "soft"),
    ("empathetic-writing", "Empathetic writing", "soft"),
    ("accessibility-support", "Accessibility support", "soft"),
    ("patience-with-seniors", "Patience with older customers", "soft"),
    # domain
    ("billing-disputes", "Billing disputes", "domain"),
    ("onboarding-calls", "Onboarding calls", "domain"),
    ("churn-save", "Churn save", "domain"),
    ("returns-and-refunds", "Returns and refunds", "domain"),
    ("saas-account-management", "SaaS account management", "domain"),
    ("healthcare-patient-support", "Healthcare patient support", "domain"),
    ("fintech-kyc-support", "Fintech and KYC support", "domain"),
    ("travel-rebooking", "Travel rebooking", "domain"),
    ("gaming-community-support", "Gaming community support", "domain"),
    ("telecom-support", "Telecom support", "domain"),
]


def ensure_skill_taxonomy() -> int:
    """Insert missing skills (idempotent). Returns how many were added."""
    existing = set(db.session.scalars(select(Skill.slug)))
    missing = [Skill(slug=slug, name=name, kind=kind) for slug, name, kind in SKILLS if slug not in existing]
    db.session.add_all(missing)
    db.session.flush()
    if missing:
        from marketplace.profiles.skill_index import forget_skill_index
        forget_skill_index()
    return len(missing)
