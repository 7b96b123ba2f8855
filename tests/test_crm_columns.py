"""Every column of a CRM's export is accounted for: mapped to a field by the spellings the
major CRMs write, kept as a custom field, or named as ignored (issue 14)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.fields import ACCOUNT_FIELDS, CONTACT_FILE_FIELDS
from domain.importing import CUSTOM, auto_mapping, mapping_line
from domain.users import Role
from main import main
from storage.importing.importer import import_accounts
from storage.queries import accounts
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from ui.account_dialog import AccountDialog
from ui.import_wizard import ImportWizard

#: Each CRM's export headers and the account fields they name, as its documentation spells
#: them (Salesforce's Data Loader writes the API names in capitals).
ACCOUNT_EXPORTS = {
    "HubSpot": {
        "Company name": "name", "Company Domain Name": "website", "Industry": "industry",
        "Number of Employees": "employees", "Annual Revenue": "annual_revenue",
        "Country/Region": "country", "State/Region": "region", "City": "city",
        "Phone Number": "phone", "Street Address": "address", "Postal Code": "postal_code",
        "Description": "description", "Year Founded": "founded_year",
    },
    "Salesforce": {
        "NAME": "name", "WEBSITE": "website", "INDUSTRY": "industry",
        "NUMBEROFEMPLOYEES": "employees", "ANNUALREVENUE": "annual_revenue",
        "BILLINGSTREET": "address", "BILLINGCITY": "city", "BILLINGSTATE": "region",
        "BILLINGPOSTALCODE": "postal_code", "BILLINGCOUNTRY": "country", "PHONE": "phone",
        "DESCRIPTION": "description", "ACCOUNTSOURCE": "source", "YEARSTARTED": "founded_year",
    },
    "Pipedrive": {
        "Organization - Name": "name", "Organization - Website": "website",
        "Organization - Industry": "industry",
        "Organization - Number of employees": "employees",
        "Organization - Annual revenue": "annual_revenue",
        "Organization - Address - Street/road name": "address",
        "Organization - Address - ZIP/Postal code": "postal_code",
        "Organization - Address - City/town/village/locality": "city",
        "Organization - Address - Country": "country",
    },
    "Zoho": {
        "Account Name": "name", "Website": "website", "Industry": "industry",
        "Employees": "employees", "Annual Revenue": "annual_revenue", "Phone": "phone",
        "Billing Street": "address", "Billing City": "city", "Billing State": "region",
        "Billing Code": "postal_code", "Billing Country": "country",
        "Description": "description",
    },
    "Odoo": {
        "Display Name": "name", "Street": "address", "Zip": "postal_code", "City": "city",
        "State": "region", "Country": "country", "Phone": "phone", "Website": "website",
        "Tags": "tags", "Notes": "description",
    },
    "Dynamics": {
        "Account Name": "name", "Main Phone": "phone", "Address 1: Street 1": "address",
        "Address 1: City": "city", "Address 1: State/Province": "region",
        "Address 1: ZIP/Postal Code": "postal_code", "Address 1: Country/Region": "country",
        "Number of Employees": "employees", "Annual Revenue": "annual_revenue",
        "Website": "website", "Industry": "industry", "Description": "description",
    },
    "Dynamics (logical names)": {
        "name": "name", "telephone1": "phone", "address1_line1": "address",
        "address1_city": "city", "address1_stateorprovince": "region",
        "address1_postalcode": "postal_code", "address1_country": "country",
        "numberofemployees": "employees", "revenue": "annual_revenue",
        "websiteurl": "website",
    },
    "Fortune Global 500": {"name": "name", "revenues": "annual_revenue"},
    "People Data Labs": {
        "name": "name", "domain": "website", "size range": "employees",
        "locality": "city", "country": "country", "industry": "industry",
        "year founded": "founded_year",
    },
    "Datablist": {
        "Name": "name", "Website": "website", "Country": "country",
        "Description": "description", "Founded": "founded_year", "Industry": "industry",
        "Number of employees": "employees", "Phone 1": "phone",
    },
}  # fmt: skip

CONTACT_EXPORTS = {
    "Atomic CRM": {
        "first_name": "first_name", "last_name": "last_name", "title": "title",
        "email_work": "email", "phone_work": "phone", "company_name": "account",
    },
    "Pipedrive": {
        "Person - Name": "name", "Person - Organization": "account",
        "Person - Email - Work": "email", "Person - Phone - Work": "phone",
        "Person - Job title": "title",
    },
    "HubSpot": {
        "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Job Title": "title", "Associated Company": "account",
    },
    "Salesforce": {
        "FIRSTNAME": "first_name", "LASTNAME": "last_name", "EMAIL": "email",
        "TITLE": "title", "PHONE": "phone", "Account Name": "account",
    },
    "Odoo": {"Name": "name", "Company Name": "account", "Job Position": "title",
             "Email": "email", "Phone": "phone"},
    "Dynamics": {"Full Name": "name", "Company Name": "account", "Job Title": "title",
                 "Email": "email", "Business Phone": "phone"},
}  # fmt: skip


@pytest.mark.parametrize("crm", ACCOUNT_EXPORTS)
def test_each_crms_account_export_maps_to_the_fields(crm):
    expected = ACCOUNT_EXPORTS[crm]
    assert dict(zip(expected, auto_mapping(list(expected), ACCOUNT_FIELDS), strict=True)) == (
        expected
    )


@pytest.mark.parametrize("crm", CONTACT_EXPORTS)
def test_each_crms_contact_export_maps_to_the_fields(crm):
    expected = CONTACT_EXPORTS[crm]
    found = dict(zip(expected, auto_mapping(list(expected), CONTACT_FILE_FIELDS), strict=True))
    assert found == expected


def test_a_column_that_names_no_field_or_a_taken_one_is_kept_as_a_custom_field():
    headers = ["Name", "Phone 1", "Phone 2", "Organization Id", "", "Accord error"]
    assert auto_mapping(headers, ACCOUNT_FIELDS) == [
        "name", "phone", CUSTOM + "Phone 2", CUSTOM + "Organization Id", "", "",
    ]  # fmt: skip


def test_the_mapping_line_names_every_column():
    headers = ["Name", "Phone 2", "Notes", "Junk"]
    line = mapping_line(headers, ["name", CUSTOM + "Phone 2", "description", ""], ACCOUNT_FIELDS)
    assert line == (
        "Mapping: Name -> Account Name, Phone 2 -> custom field Phone 2, "
        "Notes -> Description; ignored: Junk"
    )


SALESFORCE = (
    "NAME,BILLINGSTREET,BILLINGPOSTALCODE,BILLINGCITY,DESCRIPTION,Phone 1,Phone 2\n"
    '"Acme, Inc.",1 Main St,94105,San Francisco,"Makes anvils, mostly",+1 415 555 0100,'
    "+1 415 555 0199\n"
)


def test_a_salesforce_export_keeps_address_postal_code_description_and_both_phones(
    workspace, people, tmp_path
):
    path = tmp_path / "sf.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    summary = import_accounts(workspace, people[Role.OWNER], path)
    with workspace.read() as conn:
        row = conn.execute(select(accounts)).mappings().one()
    assert (row["address"], row["postal_code"], row["city"], row["description"]) == (
        "1 Main St", "94105", "San Francisco", "Makes anvils, mostly",
    )  # fmt: skip
    assert row["phone"] == "+1 415 555 0100" and row["custom"] == {"Phone 2": "+1 415 555 0199"}
    assert summary.mapping.startswith("Mapping: NAME -> Account Name, BILLINGSTREET -> Address")


def test_the_command_line_prints_the_mapping_before_the_summary_and_exports_the_new_fields(
    tmp_path, capsys
):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "sf.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    assert main(["--db", db, "--user", "Ann", "import", "accounts", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "sf.csv is read as UTF-8 text, its columns separated by commas."
    assert out[1] == (
        "Mapping: NAME -> Account Name, BILLINGSTREET -> Address, BILLINGPOSTALCODE -> "
        "Postal Code, BILLINGCITY -> City, DESCRIPTION -> Description, Phone 1 -> Phone, "
        "Phone 2 -> custom field Phone 2; ignored: none"
    )
    assert out[2].startswith("sf.csv: 1 created")
    exported = tmp_path / "out.csv"
    assert main(["--db", db, "--user", "Ann", "export", "accounts", str(exported)]) == 0
    with exported.open(encoding="utf-8-sig", newline="") as file:
        row = next(csv.DictReader(file))
    assert (row["Address"], row["Postal Code"], row["Description"]) == (
        "1 Main St", "94105", "Makes anvils, mostly",
    )  # fmt: skip


def test_the_wizard_shows_the_mapping_and_the_account_window_the_new_fields(
    qtbot, sqlite_workspace, tmp_path: Path
):
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    path = tmp_path / "sf.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    wizard = ImportWizard(sqlite_workspace, owner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    combo = wizard.mapping_page.combos[6]
    assert combo.currentText() == "Custom field “Phone 2”"
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    assert wizard.summary_page.mapping.text().startswith("Mapping: NAME -> Account Name, ")
    assert wizard.summary_page.mapping.text().endswith(
        "Phone 2 -> custom field Phone 2; ignored: none"
    )

    with sqlite_workspace.read() as conn:
        account_id = conn.execute(select(accounts.c.id)).scalar_one()
    with SqlUnitOfWork(sqlite_workspace) as uow:
        account = uow.accounts.get(account_id)
    dialog = AccountDialog(sqlite_workspace, owner, account)
    qtbot.addWidget(dialog)
    shown = {name: dialog.form.inputs[name].text() for name in ("address", "postal_code")}
    assert shown == {"address": "1 Main St", "postal_code": "94105"}
    assert dialog.form.inputs["description"].text() == "Makes anvils, mostly"
