"""Contract checks of real responses from the sandbox, REST, GraphQL and SOAP.

Each protocol is checked clean first, then with the sandbox's "schema drift"
fault renaming or retyping a field: the check must find it, at its path.
"""

from __future__ import annotations

import pytest

from apinotebook import ConfigError, ContractViolationError, RestClient
from apinotebook.contract import ContractResult
from apinotebook.graphql import GraphQLClient

pytestmark = pytest.mark.sandbox

CONTACTS = "query { lists { totalCount edges { node { id name } } } }"


# -- REST ----------------------------------------------------------------------------


def test_a_clean_page_of_contacts_respects_its_operation(crm):
    ex = crm.get("/contacts", params={"limit": 50})
    result = ex.check_contract()
    assert isinstance(result, ContractResult)
    assert result.checked and result.ok, result.summary()
    assert "listContacts" in result.against and "200" in result.against
    assert ex.meta["contract_result"] is result


def test_a_renamed_field_is_reported_at_every_record(box, crm):
    box.set_faults("crm", drift_rename="email:email_address")
    ex = crm.call("listContacts", limit=5)
    assert "email_address" in ex.json()["data"][0]  # the fault did rename it
    result = ex.check_contract()
    assert not result.ok
    required = [v for v in result.violations if v.kind == "required"]
    assert [v.path for v in required] == [f"$.data[{i}].email" for i in range(5)]


def test_a_retyped_field_is_a_type_violation(box, crm):
    box.set_faults("crm", drift_retype="has_more")
    ex = crm.get("/contacts", params={"limit": 3})
    violations = ex.check_contract().violations
    assert [(v.path, v.kind, v.actual) for v in violations] == [("$.has_more", "type", "str")]


def test_an_undocumented_status_and_an_error_body(box, crm):
    missing = crm.get("/contacts/c_nope")
    assert missing.status == 404
    assert missing.check_contract().ok  # 404 is documented (the error schema matches)
    box.set_faults("crm", error_rate=1.0, error_statuses=[503])
    failed = crm.get("/contacts", params={"limit": 1})
    assert failed.status == 503
    result = failed.check_contract()
    assert [v.kind for v in result.violations] == ["status"]


def test_the_client_option_raises_on_violations(box):
    spec = box.urls["crm"] + "/openapi.json"
    strict = RestClient.from_openapi(spec, auth=_crm_auth(box), history=None,
                                     check_contracts="raise")  # fmt: skip
    with strict:
        assert strict.get("/contacts", params={"limit": 2}).meta["contract_result"].ok
        box.set_faults("crm", drift_rename="last_name:surname")
        with pytest.raises(ContractViolationError, match=r"\$\.data\[0\]\.last_name") as info:
            strict.get("/contacts", params={"limit": 2})
        assert len(info.value.violations) == 2 and info.value.exchange is not None


def test_check_contracts_needs_a_description(box):
    with pytest.raises(ConfigError, match="from_openapi"):
        RestClient(box.urls["crm"], check_contracts=True)
    with pytest.raises(ConfigError, match="check_contracts"):
        RestClient(box.urls["crm"], check_contracts="always")


def test_a_plain_client_exchange_is_checked_against_a_given_description(box, crm):
    with RestClient(box.urls["crm"], auth=_crm_auth(box), history=None) as plain:
        ex = plain.get("/contacts/c_0001")
    with pytest.raises(ConfigError, match="no API description"):
        ex.check_contract()
    assert ex.check_contract(against=crm).against.startswith("getContact")


def _crm_auth(box):
    from apinotebook import Bearer

    return Bearer(box.env["CRM_TOKEN"])


# -- GraphQL --------------------------------------------------------------------------


def test_a_clean_graphql_response_respects_the_query_type(mail):
    ex = mail.execute(CONTACTS)
    result = ex.check_contract()
    assert result.checked and result.ok, result.summary()


def test_a_renamed_graphql_field_is_missing_and_unknown(box, mail):
    mail.schema  # noqa: B018 - introspect before the fault renames "name" in every response
    box.set_faults("mail", drift_rename="name:title")
    ex = mail.execute(CONTACTS)
    found = {(v.path, v.kind) for v in ex.check_contract().violations}
    total = ex.json()["data"]["lists"]["totalCount"]
    for i in range(total):
        assert (f"$.data.lists.edges[{i}].node.name", "missing") in found
        assert (f"$.data.lists.edges[{i}].node.title", "unknown") in found
    assert len(found) == 2 * total


def test_a_retyped_graphql_field_and_a_null_where_non_null(box, mail):
    mail.schema  # noqa: B018
    box.set_faults("mail", drift_retype="totalCount")
    ex = mail.execute(CONTACTS, validate=False)
    assert [(v.path, v.kind, v.expected) for v in ex.check_contract().violations] == [
        ("$.data.lists.totalCount", "type", "Int")
    ]


def test_the_graphql_client_option(box):
    key = _mail_key(box)
    with GraphQLClient(box.urls["mail"], auth=key, history=None, check_contracts="raise") as c:
        c.schema  # noqa: B018
        assert c.execute(CONTACTS).meta["contract_result"].ok
        box.set_faults("mail", drift_rename="id:identifier")
        with pytest.raises(ContractViolationError, match="node.id"):
            c.execute(CONTACTS)


def _mail_key(box):
    from apinotebook import ApiKey

    return ApiKey(box.env["MAIL_API_KEY"], header="X-API-Key")


# -- SOAP --------------------------------------------------------------------------------


def test_a_clean_soap_response_respects_the_xsd(billing):
    ex = billing.call("ListCustomers", page=1, pageSize=5)
    result = ex.check_contract()
    assert result.checked and result.ok, result.summary()
    assert billing.call("GetInvoice", invoiceId=_an_invoice(billing)).check_contract().ok


def test_a_renamed_soap_element_is_reported_with_its_xpath(box, billing):
    box.set_faults("billing", drift_rename="email:emailAddress")
    try:
        ex = billing.call("ListCustomers", page=1, pageSize=3)
    except Exception as exc:  # zeep may refuse the unexpected element: the exchange is kept
        ex = exc.exchange  # type: ignore[attr-defined]
    result = ex.check_contract()
    assert not result.ok
    assert len(result.violations) == 3
    assert all("emailAddress" in v.message and "customer" in v.path for v in result.violations)


def test_a_retyped_soap_value_is_a_type_violation(box, billing):
    box.set_faults("billing", drift_retype="balanceDue")
    try:
        ex = billing.call("ListCustomers", page=1, pageSize=2)
    except Exception as exc:  # noqa: BLE001
        ex = exc.exchange  # type: ignore[attr-defined]
    result = ex.check_contract()
    assert len(result.violations) == 2
    assert all(v.kind == "type" and v.path.endswith("balanceDue") for v in result.violations)


def _an_invoice(billing):
    page = billing.call("ListInvoices", page=1, pageSize=1).data
    return page["invoice"][0]["id"]
