"""billing: the sandbox's legacy SOAP service of customers and invoices.

A SOAP 1.1 document/literal service described by ``wsdl/billing.wsdl``, which
imports its types from ``wsdl/billing-types.xsd``. Four operations:
``ListCustomers``, ``GetCustomer``, ``ListInvoices`` and ``GetInvoice``.
Authenticate with HTTP Basic or a WS-Security UsernameToken
(``BILLING_USERNAME`` / ``BILLING_PASSWORD``).

The customers are drawn from the same seeded people as the CRM's contacts
(same email addresses), so "bring invoices into CRM contacts" has real matches
-- plus about one customer in ten whom the CRM has never heard of (people with
an index past the CRM's range and a personal email domain). Each customer has
one to five invoices (three on average), generated on first use from the
customer's own seeded stream: building the service costs nothing per contact.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._seed import EPOCH, FIRST, LAST, WORDS, companies, people
from apinotebook.sandbox._soap import WSDL_DIR, SoapApp, SoapAuth, SoapFaultError

__all__ = ["BillingStore", "Customer", "Invoice", "InvoiceHead", "InvoiceLine", "build"]

#: Share of the CRM's people who are billing customers.
CRM_SHARE = 0.5
#: Every tenth customer is someone the CRM does not know.
EXTERNAL_EVERY = 10
#: Invoices are issued in the 184 days before the seed epoch (2026-01-01).
TODAY = EPOCH.date()
PAYMENT_TERMS = timedelta(days=30)

COUNTRY = {
    "Berlin": "DE", "Lisbon": "PT", "Lagos": "NG", "Toronto": "CA", "Osaka": "JP",
    "Austin": "US", "Nairobi": "KE", "Lyon": "FR", "Melbourne": "AU", "Bogota": "CO",
    "Seoul": "KR", "Dublin": "IE",
}  # fmt: skip
EURO = {"DE", "PT", "FR", "IE"}
STREETS = ("Street", "Road", "Avenue", "Lane", "Way")
PERSONAL_DOMAINS = ("post.example", "mailbox.example", "inbox.example")
#: sku, description, unit price, largest quantity on one line
CATALOG = (
    ("SUB-BASIC", "Basic plan, monthly", "29.00", 3),
    ("SUB-PRO", "Pro plan, monthly", "99.00", 3),
    ("SEAT", "Additional seat", "12.50", 25),
    ("SUPPORT", "Priority support", "149.00", 2),
    ("TRAINING", "Training session, per hour", "85.00", 8),
    ("API-1K", "API calls, per 1,000", "0.40", 500),
    ("STORAGE", "Storage, per 10 GB", "4.75", 40),
    ("ONBOARD", "Onboarding package", "450.00", 1),
)
CENT = Decimal("0.01")
#: by days before TODAY: issue date, due date and the status if unpaid
_ISSUED = [TODAY - timedelta(days=back) for back in range(185)]
_DUE = [issued + PAYMENT_TERMS for issued in _ISSUED]
_UNPAID = ["OVERDUE" if due < TODAY else "OPEN" for due in _DUE]
_CUSTOMER_ID = re.compile(r"CUST-(\d{5,})")
_INVOICE_ID = re.compile(r"INV-(\d{5,})-(\d+)")


@dataclass(frozen=True, slots=True)
class Customer:
    """One billing customer; ``person`` is the CRM person's index, if any."""

    id: str
    name: str
    email: str
    company: str
    street: str
    city: str
    postal_code: str
    country: str
    currency: str
    person: int | None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: ``amount == quantity * unit_price``."""

    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class InvoiceHead(NamedTuple):
    """What listing and filtering need of an invoice: no lines, no amounts."""

    customer: int
    number: int
    issued: date
    due: date
    status: str


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice: ``total`` is the sum of the line amounts."""

    id: str
    number: str
    customer_id: str
    issue_date: date
    due_date: date
    status: str
    currency: str
    total: Decimal
    lines: tuple[InvoiceLine, ...]


class BillingStore:
    """The billing data for a seed, generated lazily and deterministically.

    Args:
        seed: the sandbox seed.
        contacts: how many people the CRM has (customers are drawn from them).
        companies: how many companies those people work for.
    """

    def __init__(self, *, seed: int, contacts: int, companies: int) -> None:
        self.seed = seed
        self.contacts = contacts
        self.n_companies = companies
        self.n_crm = round(contacts * CRM_SHARE)
        self.n_external = max(1, round(self.n_crm / (EXTERNAL_EVERY - 1)))
        self._lock = threading.Lock()
        self._customers: tuple[Customer, ...] | None = None
        self._heads: tuple[tuple[InvoiceHead, ...], list[int]] | None = None
        self._invoices: dict[int, tuple[Invoice, ...]] = {}

    def __len__(self) -> int:
        return self.n_crm + self.n_external

    def __repr__(self) -> str:
        return f"<BillingStore seed={self.seed} customers={len(self)}>"

    # -- customers -----------------------------------------------------------------

    def customers(self) -> tuple[Customer, ...]:
        """Every customer, in id order."""
        if self._customers is None:
            with self._lock:
                if self._customers is None:
                    self._customers = tuple(self._generate_customers())
        return self._customers

    def _generate_customers(self) -> Iterator[Customer]:
        rng = random.Random(f"billing:customers:{self.seed}")
        chosen = sorted(rng.sample(range(self.contacts), self.n_crm))
        persons = people(self.seed, self.contacts, self.n_companies) if chosen else ()
        comps = companies(self.seed, self.n_companies)
        choice, randrange = rng.choice, rng.randrange
        crm, external = iter(chosen), 0
        for k in range(1, len(self) + 1):
            index = None
            if k % EXTERNAL_EVERY == 0 and external < self.n_external:
                external += 1
            else:
                index = next(crm, None)
                if index is None:
                    external += 1
            if index is not None:
                p = persons[index]
                name, email = f"{p.first_name} {p.last_name}", p.email
                company, city = comps[p.company].name, p.city
            else:  # someone the CRM never heard of: an index past its range
                first, last = choice(FIRST), choice(LAST)
                name = f"{first} {last}"
                number = self.contacts + external - 1
                email = f"{first.lower()}.{last.lower()}{number}@{choice(PERSONAL_DOMAINS)}"
                picked = comps[randrange(len(comps))]
                company, city = picked.name, picked.city
            country = COUNTRY.get(city, "US")
            yield Customer(
                id=f"CUST-{k:05d}",
                name=name,
                email=email,
                company=company,
                street=f"{randrange(1, 200)} {choice(WORDS)} {choice(STREETS)}",
                city=city,
                postal_code=str(randrange(10000, 99999)),
                country=country,
                currency="EUR" if country in EURO else "USD",
                person=index,
            )

    def customer(self, customer_id: str) -> Customer | None:
        """The customer with ``customer_id`` (``CUST-00042``), or ``None``."""
        k = _number(_CUSTOMER_ID, customer_id)
        if k is None or not 1 <= k <= len(self):
            return None
        return self.customers()[k - 1]

    def balance_due(self, customer: Customer) -> Decimal:
        """Sum of the customer's OPEN and OVERDUE invoices."""
        owed = (i.total for i in self.invoices_of(customer) if i.status != "PAID")
        return sum(owed, Decimal("0.00"))

    # -- invoices ------------------------------------------------------------------
    #
    # The invoice headers (dates, status) of every customer come from one seeded
    # stream, drawn on first use (~2 us per invoice); the lines come from each
    # customer's own stream, drawn only for the invoices a caller looks at.

    def _all_heads(self) -> tuple[tuple[InvoiceHead, ...], list[int]]:
        if self._heads is None:
            with self._lock:
                if self._heads is None:
                    rnd = random.Random(f"billing:invoices:{self.seed}").random
                    heads: list[InvoiceHead] = []
                    starts = [0]
                    for k in range(1, len(self) + 1):
                        backs = sorted(1 + int(rnd() * 184) for _ in range(1 + int(rnd() * 5)))
                        for j, back in enumerate(reversed(backs), start=1):
                            status = "PAID" if rnd() < 0.6 else _UNPAID[back]
                            heads.append(InvoiceHead(k, j, _ISSUED[back], _DUE[back], status))
                        starts.append(len(heads))
                    self._heads = (tuple(heads), starts)
        return self._heads

    def heads(self) -> tuple[InvoiceHead, ...]:
        """Headers of every invoice, in id order."""
        return self._all_heads()[0]

    def heads_of(self, k: int) -> tuple[InvoiceHead, ...]:
        """Headers of customer number ``k``'s invoices, oldest first."""
        heads, starts = self._all_heads()
        return heads[starts[k - 1] : starts[k]]

    def invoices_of(self, customer: Customer) -> tuple[Invoice, ...]:
        """The customer's invoices with their lines, oldest first."""
        k = int(customer.id[5:])
        found = self._invoices.get(k)
        if found is None:
            rng = random.Random(f"billing:lines:{self.seed}:{k}")
            invoices = []
            for head in self.heads_of(k):
                lines = []
                for _ in range(rng.randint(1, 5)):
                    sku, description, price, most = rng.choice(CATALOG)
                    quantity, unit = rng.randint(1, most), Decimal(price)
                    lines.append(InvoiceLine(sku, description, quantity, unit, unit * quantity))
                invoices.append(
                    Invoice(
                        id=f"INV-{k:05d}-{head.number}",
                        number=f"{head.issued:%Y}/{k:05d}/{head.number}",
                        customer_id=customer.id,
                        issue_date=head.issued,
                        due_date=head.due,
                        status=head.status,
                        currency=customer.currency,
                        total=sum((x.amount for x in lines), Decimal("0.00")).quantize(CENT),
                        lines=tuple(lines),
                    )
                )
            found = self._invoices[k] = tuple(invoices)
        return found

    def full(self, head: InvoiceHead) -> Invoice:
        """The invoice behind ``head``."""
        return self.invoices_of(self.customers()[head.customer - 1])[head.number - 1]

    def invoices(self) -> list[Invoice]:
        """Every invoice with its lines, in id order (draws them all: slow for huge sizes)."""
        return [self.full(h) for h in self.heads()]

    def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice with ``invoice_id`` (``INV-00042-2``), or ``None``."""
        match = _INVOICE_ID.fullmatch(invoice_id.strip())
        if match is None:
            return None
        customer = self.customer(f"CUST-{match[1]}")
        if customer is None:
            return None
        for invoice in self.invoices_of(customer):
            if invoice.id == invoice_id.strip():
                return invoice
        return None


def _number(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.fullmatch(text.strip())
    return int(match[1]) if match else None


# -- the SOAP operations ------------------------------------------------------------


class _Operations:
    def __init__(self, store: BillingStore) -> None:
        self.store = store

    def customer_dict(self, c: Customer) -> dict[str, Any]:
        return {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "company": c.company,
            "address": {
                "street": c.street,
                "city": c.city,
                "postalCode": c.postal_code,
                "country": c.country,
            },
            "balanceDue": self.store.balance_due(c),
            "currency": c.currency,
        }

    @staticmethod
    def invoice_dict(i: Invoice) -> dict[str, Any]:
        return {
            "id": i.id,
            "number": i.number,
            "customerId": i.customer_id,
            "issueDate": i.issue_date,
            "dueDate": i.due_date,
            "status": i.status,
            "currency": i.currency,
            "total": i.total,
            "line": [
                {
                    "sku": line.sku,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unitPrice": line.unit_price,
                    "amount": line.amount,
                }
                for line in i.lines
            ],
        }

    def find_customer(self, customer_id: str) -> Customer:
        found = self.store.customer(customer_id)
        if found is None:
            raise SoapFaultError(
                "CUSTOMER_NOT_FOUND",
                f"No customer with id {customer_id!r}; ids look like CUST-00042 "
                f"(CUST-00001 to CUST-{len(self.store):05d})",
                detail={"id": customer_id},
            )
        return found

    def list_customers(self, params: Mapping[str, Any]) -> dict[str, Any]:
        page, size = params.get("page") or 1, params.get("pageSize") or 20
        chunk = self.store.customers()[(page - 1) * size : page * size]
        return {
            "total": len(self.store),
            "page": page,
            "pageSize": size,
            "customer": [self.customer_dict(c) for c in chunk],
        }

    def get_customer(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"customer": self.customer_dict(self.find_customer(params["customerId"]))}

    def list_invoices(self, params: Mapping[str, Any]) -> dict[str, Any]:
        page, size = params.get("page") or 1, params.get("pageSize") or 20
        customer_id, status, since = (
            params.get(k) for k in ("customerId", "status", "issuedSince")
        )
        if customer_id is not None:
            heads = self.store.heads_of(int(self.find_customer(customer_id).id[5:]))
        else:
            heads = self.store.heads()
        matching = [
            h
            for h in heads
            if (status is None or h.status == status) and (since is None or h.issued >= since)
        ]
        shown = matching[(page - 1) * size : page * size]
        return {
            "total": len(matching),
            "page": page,
            "pageSize": size,
            "invoice": [self.invoice_dict(self.store.full(h)) for h in shown],
        }

    def get_invoice(self, params: Mapping[str, Any]) -> dict[str, Any]:
        invoice_id = params["invoiceId"]
        found = self.store.invoice(invoice_id)
        if found is None:
            raise SoapFaultError(
                "INVOICE_NOT_FOUND",
                f"No invoice with id {invoice_id!r}; ids look like INV-00042-2",
                detail={"id": invoice_id},
            )
        return {"invoice": self.invoice_dict(found)}


def build(ctx: SandboxContext) -> list[Mount]:
    """The billing service, mounted at ``/billing``."""
    store = BillingStore(seed=ctx.seed, contacts=ctx.contacts, companies=ctx.companies)
    ops = _Operations(store)
    app = SoapApp(
        WSDL_DIR / "billing.wsdl",
        address=ctx.url("/billing"),
        handlers={
            "ListCustomers": ops.list_customers,
            "GetCustomer": ops.get_customer,
            "ListInvoices": ops.list_invoices,
            "GetInvoice": ops.get_invoice,
        },
        auth=SoapAuth(
            ctx.credentials["BILLING_USERNAME"],
            ctx.credentials["BILLING_PASSWORD"],
            realm="billing",
            hint="BILLING_USERNAME / BILLING_PASSWORD",
        ),
    )
    return [
        Mount(
            prefix="/billing",
            app=app,
            service="billing",
            error_format="soap11",
            urls={"billing": "/billing?wsdl"},
            env={"BILLING_WSDL": "/billing?wsdl", "BILLING_URL": "/billing"},
            state=store,
        )
    ]
