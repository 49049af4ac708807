"""What we register at SmartRecruiters: our URLs and the assessment types we offer (research §1.2)."""

from __future__ import annotations

from settings import Settings

SUPPORTED_ASSESSMENT_TYPES = ["SKILL_TEST", "BACKGROUND_CHECK", "INLINE_ASSESSMENT"]


def partner_configuration(settings: Settings) -> dict:
    """The body of PUT /assessment-api/v202010/partner/configuration."""
    base = settings.public_url.rstrip("/")
    return {
        "consentUrl": f"{base}/integration",
        # SR sends the admin to our page and we send them back with its `redirect`.
        "consentDisplayMode": "REDIRECT",
        "oauthTokenUrl": f"{base}/oauth/token",
        "assessmentPackageListUrl": f"{base}/packages",
        "singleAssessmentPackageUrl": f"{base}/packages",
        "packageOrderUrl": f"{base}/packages/orders",
        "inlineAssessmentPackageOrderUrl": f"{base}/packages/inline/orders",
        "integrationDisableUrl": f"{base}/integrations/companies",
        "supportedAssessmentTypes": SUPPORTED_ASSESSMENT_TYPES,
    }
