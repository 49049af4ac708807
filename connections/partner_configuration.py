"""What we register at SmartRecruiters: our URLs and the assessment types we offer
(research §1.2)."""

from __future__ import annotations

from settings import Settings

SUPPORTED_ASSESSMENT_TYPES = ["SKILL_TEST", "BACKGROUND_CHECK", "INLINE_ASSESSMENT"]


# The spec describes singleAssessmentPackageUrl as "Refers to Partner API: `GET
# /packages/{assessmentPackageId}`" and integrationDisableUrl as "… `DELETE
# /integrations/companies/{companyId}`": the URL of that operation, its id named as a placeholder.
# Whether SR replaces the placeholder or appends the id is not said; our routes answer both
# (api/packages.py, api/integrations.py), and the id-less form of an older registration too.
PACKAGE_ID_PLACEHOLDER = "{assessmentPackageId}"
COMPANY_ID_PLACEHOLDER = "{companyId}"


def partner_configuration(settings: Settings) -> dict:
    """The body of PUT /assessment-api/v202010/partner/configuration."""
    base = settings.public_url.rstrip("/")
    template = settings.sr_id_url_form == "template"
    return {
        "consentUrl": f"{base}/integration",
        # SR sends the admin to our page and we send them back with its `redirect`.
        "consentDisplayMode": "REDIRECT",
        "oauthTokenUrl": f"{base}/oauth/token",
        "assessmentPackageListUrl": f"{base}/packages",
        "singleAssessmentPackageUrl": f"{base}/packages"
        + (f"/{PACKAGE_ID_PLACEHOLDER}" if template else ""),
        "packageOrderUrl": f"{base}/packages/orders",
        "inlineAssessmentPackageOrderUrl": f"{base}/packages/inline/orders",
        "integrationDisableUrl": f"{base}/integrations/companies"
        + (f"/{COMPANY_ID_PLACEHOLDER}" if template else ""),
        "supportedAssessmentTypes": SUPPORTED_ASSESSMENT_TYPES,
    }
