"""The URLs we register at SR for the operations that take an id."""

from __future__ import annotations

from connections.partner_configuration import partner_configuration
from settings import Settings


def test_registered_urls_name_their_ids_as_the_spec_does_unless_told_otherwise():
    template = partner_configuration(Settings(public_url="https://partner.example/"))
    assert (
        template["singleAssessmentPackageUrl"]
        == "https://partner.example/packages/{assessmentPackageId}"
    )
    assert (
        template["integrationDisableUrl"]
        == "https://partner.example/integrations/companies/{companyId}"
    )
    base = partner_configuration(
        Settings(public_url="https://partner.example", sr_id_url_form="base")
    )
    assert base["singleAssessmentPackageUrl"] == "https://partner.example/packages"
    assert base["integrationDisableUrl"] == "https://partner.example/integrations/companies"
    assert {
        key: value
        for key, value in base.items()
        if key not in ("singleAssessmentPackageUrl", "integrationDisableUrl")
    } == {
        key: value
        for key, value in template.items()
        if key not in ("singleAssessmentPackageUrl", "integrationDisableUrl")
    }
