"""Deterministic synthetic catalogues, for scale work, benchmarks and demos of big estates.

``synth_spec(systems, fields_per_system, seed)`` returns a :class:`CatalogSpec` that looks like a
real organisation's: product-ish system names, tables and columns whose names match their data
categories (``email`` -> ``user.contact.email``, ``sort_code`` -> ``user.financial.bank_account``),
hosting in about fifteen countries with most of it in the UK, Ireland, Germany and the US,
processors with sub-processors and certifications, processing activities with lawful bases, and
two flows per system, some of them across borders and some restricted transfers without a
mechanism (gaps), with field-level lineage along the flows between systems.

Same arguments, same spec: every choice comes from one ``random.Random(seed)`` and nothing
iterates over a set (string hashing differs between processes).

Built as plain dicts and validated once with ``CatalogSpec.model_validate``, not with
``model_construct``: measured on 10,000 systems x 100 fields (a million fields), validating the
whole document in pydantic-core takes about 3.7 s in all, while constructing each model object
without validation took about 6 s (and 19 s with the cyclic garbage collector running).
Validation is the faster path and also proves every taxonomy key, country, enum value and id is
valid. The cyclic garbage collector is paused while the spec is built: it only rescans the
millions of new acyclic objects (about 10 s instead of 3.7 s).
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from dataclasses import dataclass

from catalog.collector import collector_paused
from catalog.jurisdictions import Regime, TransferStatus, load_jurisdictions
from catalog.specs import CatalogSpec
from catalog.taxonomy import load_taxonomy

__all__ = ["synth_spec"]

# ------------------------------------------------------------------------------------------------
# Vocabulary. Every taxonomy key, country and enum value the generator can emit is in these tables.
# ------------------------------------------------------------------------------------------------

# (id, name, provider, city, country, kind, weight): ~30 sites in 16 countries, weighted to the
# UK, Ireland, Germany and the US as a UK organisation's estate usually is.
LOCATIONS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("aws-eu-west-2", "AWS Europe (London) eu-west-2", "Amazon Web Services", "London", "GB", "cloud_region", 14),
    ("azure-uk-south", "Microsoft Azure UK South", "Microsoft", "London", "GB", "cloud_region", 7),
    ("gcp-europe-west2", "Google Cloud europe-west2 (London)", "Google Cloud", "London", "GB", "cloud_region", 4),
    ("equinix-ld5", "Equinix LD5, Slough", "Equinix", "Slough", "GB", "data_centre", 5),
    ("manchester-dc", "Pennine Colocation, Manchester", "Pennine Colocation Ltd", "Manchester", "GB", "data_centre", 3),
    ("london-office", "Head office, London", "Own premises", "London", "GB", "office", 2),
    ("aws-eu-west-1", "AWS Europe (Ireland) eu-west-1", "Amazon Web Services", "Dublin", "IE", "cloud_region", 10),
    ("azure-north-europe", "Microsoft Azure North Europe (Dublin)", "Microsoft", "Dublin", "IE", "cloud_region", 5),
    ("aws-eu-central-1", "AWS Europe (Frankfurt) eu-central-1", "Amazon Web Services", "Frankfurt am Main", "DE", "cloud_region", 7),
    ("gcp-europe-west3", "Google Cloud europe-west3 (Frankfurt)", "Google Cloud", "Frankfurt am Main", "DE", "cloud_region", 3),
    ("hetzner-fsn1", "Hetzner Falkenstein FSN1", "Hetzner Online GmbH", "Falkenstein", "DE", "data_centre", 2),
    ("azure-west-europe", "Microsoft Azure West Europe (Amsterdam)", "Microsoft", "Amsterdam", "NL", "cloud_region", 4),
    ("aws-eu-west-3", "AWS Europe (Paris) eu-west-3", "Amazon Web Services", "Paris", "FR", "cloud_region", 2),
    ("ovh-rbx", "OVHcloud Roubaix", "OVH SAS", "Roubaix", "FR", "data_centre", 1),
    ("aws-eu-north-1", "AWS Europe (Stockholm) eu-north-1", "Amazon Web Services", "Stockholm", "SE", "cloud_region", 1),
    ("gcp-europe-west6", "Google Cloud europe-west6 (Zurich)", "Google Cloud", "Zurich", "CH", "cloud_region", 1),
    ("aws-us-east-1", "AWS US East (N. Virginia) us-east-1", "Amazon Web Services", "Ashburn, Virginia", "US", "cloud_region", 8),
    ("aws-us-west-2", "AWS US West (Oregon) us-west-2", "Amazon Web Services", "Boardman, Oregon", "US", "cloud_region", 3),
    ("azure-east-us", "Microsoft Azure East US (Virginia)", "Microsoft", "Boydton, Virginia", "US", "cloud_region", 3),
    ("gcp-us-central1", "Google Cloud us-central1 (Iowa)", "Google Cloud", "Council Bluffs, Iowa", "US", "cloud_region", 2),
    ("aws-ca-central-1", "AWS Canada (Central) ca-central-1", "Amazon Web Services", "Montreal", "CA", "cloud_region", 1),
    ("aws-ap-south-1", "AWS Asia Pacific (Mumbai) ap-south-1", "Amazon Web Services", "Mumbai", "IN", "cloud_region", 2),
    ("azure-central-india", "Microsoft Azure Central India (Pune)", "Microsoft", "Pune", "IN", "cloud_region", 1),
    ("aws-ap-southeast-1", "AWS Asia Pacific (Singapore) ap-southeast-1", "Amazon Web Services", "Singapore", "SG", "cloud_region", 2),
    ("aws-sa-east-1", "AWS South America (São Paulo) sa-east-1", "Amazon Web Services", "São Paulo", "BR", "cloud_region", 1),
    ("azure-south-africa-north", "Microsoft Azure South Africa North (Johannesburg)", "Microsoft", "Johannesburg", "ZA", "cloud_region", 1),
    ("aws-ap-northeast-1", "AWS Asia Pacific (Tokyo) ap-northeast-1", "Amazon Web Services", "Tokyo", "JP", "cloud_region", 1),
    ("aws-ap-southeast-2", "AWS Asia Pacific (Sydney) ap-southeast-2", "Amazon Web Services", "Sydney", "AU", "cloud_region", 1),
)

# Where third parties are established (weights), and the company-name suffix used there.
PARTY_COUNTRIES: tuple[tuple[str, int, str], ...] = (
    ("GB", 25, "Ltd"), ("US", 20, "Inc."), ("IE", 10, "Ltd"), ("DE", 8, "GmbH"), ("NL", 4, "B.V."),
    ("FR", 3, "SAS"), ("SE", 1, "AB"), ("CH", 1, "AG"), ("CA", 1, "Inc."), ("IN", 6, "Pvt Ltd"),
    ("SG", 2, "Pte Ltd"), ("BR", 2, "Ltda"), ("ZA", 2, "(Pty) Ltd"), ("JP", 1, "K.K."), ("AU", 1, "Pty Ltd"),
)

# Field templates: (name variants, categories, data type, pseudonymised). The first variant is the
# usual column name; later ones are used when a table needs the same kind of column again.
FIELD_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, bool]] = {
    "email": (("email", "email_address", "contact_email", "primary_email", "billing_email", "secondary_email"), ("user.contact.email",), "varchar(255)", False),
    "work_email": (("work_email", "business_email", "corporate_email"), ("user.contact.work.email",), "varchar(255)", False),
    "first_name": (("first_name", "given_name", "forename"), ("user.name.first",), "varchar(100)", False),
    "last_name": (("last_name", "family_name", "surname"), ("user.name.last",), "varchar(100)", False),
    "full_name": (("full_name", "display_name", "contact_name", "account_holder_name"), ("user.name",), "varchar(200)", False),
    "phone": (("phone", "phone_number", "mobile_number", "telephone"), ("user.contact.phone_number",), "varchar(32)", False),
    "work_phone": (("work_phone", "office_phone", "direct_dial"), ("user.contact.work.phone_number",), "varchar(32)", False),
    "street": (("address_line1", "street", "address_line2"), ("user.contact.address.street",), "varchar(200)", False),
    "city": (("city", "town"), ("user.contact.address.city",), "varchar(100)", False),
    "postcode": (("postcode", "postal_code", "zip_code"), ("user.contact.address.postal_code",), "varchar(16)", False),
    "country": (("country", "country_code"), ("user.contact.address.country",), "char(2)", False),
    "home_address": (("home_address", "residential_address"), ("user.contact.home.address",), "text", False),
    "work_address": (("work_address", "office_address", "site_address"), ("user.contact.work.address",), "text", False),
    "organisation": (("company", "employer", "organisation_name"), ("user.contact.organization",), "varchar(200)", False),
    "job_title": (("job_title", "role_title", "position"), ("user.job_title",), "varchar(100)", False),
    "date_of_birth": (("date_of_birth", "dob", "birth_date"), ("user.demographic.date_of_birth",), "date", False),
    "gender": (("gender", "sex"), ("user.demographic.gender",), "varchar(20)", False),
    "language": (("preferred_language", "locale"), ("user.demographic.language",), "varchar(10)", False),
    "customer_id": (("customer_id", "user_id", "account_id", "member_id"), ("user.unique_id",), "uuid", False),
    "hashed_email": (("email_sha256", "hashed_email", "email_hash"), ("user.unique_id.pseudonymous",), "char(64)", True),
    "username": (("username", "login", "user_name"), ("user.account.username",), "varchar(100)", False),
    "password_hash": (("password_hash", "password_digest"), ("user.authorization.password",), "varchar(255)", False),
    "api_token": (("api_token", "refresh_token", "session_token"), ("user.authorization.credentials",), "varchar(255)", False),
    "ip_address": (("ip_address", "client_ip", "last_login_ip", "source_ip"), ("user.device.ip_address",), "inet", False),
    "device_id": (("device_id", "device_fingerprint", "hardware_id"), ("user.device.device_id",), "varchar(64)", False),
    "cookie_id": (("cookie_id", "visitor_id", "ga_client_id"), ("user.device.cookie_id",), "varchar(64)", False),
    "cookie": (("session_cookie", "consent_cookie"), ("user.device.cookie",), "text", False),
    "user_agent": (("user_agent", "browser"), ("user.device",), "text", False),
    "bank_account": (("account_number", "sort_code", "iban", "bic", "bank_account_name"), ("user.financial.bank_account",), "varchar(34)", False),
    "card": (("card_last4", "card_token", "card_expiry"), ("user.financial.credit_card",), "varchar(32)", True),
    "salary": (("salary", "annual_salary", "bonus"), ("user.financial",), "numeric(12,2)", False),
    "ni_number": (("ni_number", "national_insurance_number", "tax_id"), ("user.government_id.national_identification_number",), "varchar(16)", False),
    "passport": (("passport_number", "right_to_work_document"), ("user.government_id.passport_number",), "varchar(20)", False),
    "precise_location": (("latitude", "longitude", "gps_position"), ("user.location.precise",), "numeric(9,6)", False),
    "region": (("region", "geo_country", "timezone"), ("user.location.imprecise",), "varchar(64)", False),
    "purchases": (("order_items", "purchase_history", "basket_contents"), ("user.behavior.purchase_history",), "jsonb", False),
    "browsing": (("page_url", "referrer", "page_views"), ("user.behavior.browsing_history",), "text", False),
    "searches": (("search_terms", "search_query"), ("user.behavior.search_history",), "text", False),
    "message": (("message_body", "notes", "comment", "description"), ("user.content.private",), "text", False),
    "support_session": (("session_recording", "chat_transcript", "screen_capture"), ("user.content.support_session",), "bytea", False),
    "preferences": (("marketing_opt_in", "consent_given_at", "privacy_settings"), ("user.privacy_preferences",), "jsonb", False),
    "health": (("medical_notes", "sickness_absence_reason", "disability_adjustments"), ("user.health_and_medical",), "text", False),
    "ethnicity": (("ethnic_origin",), ("user.demographic.race_ethnicity",), "varchar(50)", False),
    "union": (("trade_union_member", "union_subscription"), ("user.demographic.trade_union_membership",), "boolean", False),
    "criminal": (("dbs_check_result", "criminal_record_check"), ("user.criminal_history",), "text", False),
    "created_at": (("created_at", "updated_at", "deleted_at", "last_seen_at"), (), "timestamp", False),
    "status": (("status", "state", "type", "source"), (), "varchar(20)", False),
    "amount": (("amount", "currency", "total", "tax"), (), "numeric(12,2)", False),
    "reference": (("reference", "sku", "order_number", "invoice_number", "ticket_number"), (), "varchar(40)", False),
}

# Dataset templates: (table name variants, data subjects, {field template: weight}).
DATASET_TEMPLATES: tuple[tuple[tuple[str, ...], tuple[str, ...], dict[str, int]], ...] = (
    (("customers", "clients", "accounts"), ("customer",), {"customer_id": 3, "full_name": 3, "first_name": 2, "last_name": 2, "email": 4, "phone": 3, "street": 2, "city": 2, "postcode": 2, "country": 2, "date_of_birth": 1, "language": 1, "preferences": 2, "created_at": 4, "status": 3}),
    (("users", "logins", "identities"), ("customer",), {"customer_id": 3, "username": 4, "email": 3, "password_hash": 2, "api_token": 1, "ip_address": 2, "device_id": 1, "hashed_email": 1, "created_at": 3, "status": 2}),
    (("orders", "subscriptions", "bookings"), ("customer",), {"customer_id": 3, "reference": 4, "purchases": 3, "amount": 4, "card": 2, "street": 1, "postcode": 1, "email": 1, "created_at": 3, "status": 3}),
    (("payments", "invoices", "refunds"), ("customer",), {"customer_id": 2, "reference": 3, "amount": 4, "bank_account": 3, "card": 2, "full_name": 2, "email": 1, "created_at": 3, "status": 2}),
    (("employees", "staff", "workers"), ("employee",), {"full_name": 3, "work_email": 3, "work_phone": 2, "job_title": 3, "home_address": 2, "date_of_birth": 2, "ni_number": 2, "salary": 2, "bank_account": 2, "health": 1, "union": 1, "ethnicity": 1, "created_at": 2}),
    (("candidates", "applications"), ("job_applicant",), {"full_name": 3, "email": 3, "phone": 2, "home_address": 1, "passport": 1, "criminal": 1, "message": 2, "created_at": 2, "status": 2}),
    (("web_events", "page_views", "sessions", "clickstream"), ("visitor", "customer"), {"cookie_id": 3, "cookie": 2, "ip_address": 3, "user_agent": 2, "browsing": 4, "searches": 2, "region": 2, "created_at": 4}),
    (("tickets", "cases", "conversations"), ("customer",), {"customer_id": 2, "full_name": 2, "email": 3, "phone": 2, "message": 4, "support_session": 2, "reference": 2, "created_at": 3, "status": 3}),
    (("audit_log", "access_log", "security_events"), ("employee", "customer"), {"username": 3, "ip_address": 4, "device_id": 2, "user_agent": 2, "region": 2, "created_at": 4, "status": 2}),
    (("leads", "contacts", "prospects"), ("prospect",), {"full_name": 3, "work_email": 4, "work_phone": 3, "organisation": 3, "job_title": 2, "work_address": 1, "preferences": 2, "created_at": 2, "status": 2}),
    (("suppliers", "vendors", "contractors"), ("supplier_vendor", "consultant"), {"full_name": 2, "work_email": 3, "work_phone": 2, "organisation": 3, "bank_account": 3, "work_address": 2, "reference": 2, "created_at": 2}),
    (("locations", "deliveries", "trips"), ("customer",), {"customer_id": 2, "precise_location": 4, "region": 2, "street": 2, "postcode": 2, "device_id": 1, "created_at": 3}),
)

SYSTEM_DOMAINS = (
    "Customer", "Billing", "Payments", "Orders", "Identity", "Marketing", "Analytics", "Support", "Payroll",
    "HR", "Recruitment", "Inventory", "Logistics", "Fulfilment", "Loyalty", "Subscriptions", "Pricing",
    "Fraud", "Risk", "Compliance", "Finance", "Procurement", "Partner", "Field Service", "Booking",
    "Membership", "Notifications", "Search", "Content", "Data", "Reporting", "Sales", "Onboarding",
    "Claims", "Collections", "Messaging", "Survey", "Learning", "Facilities", "Security",
)
SYSTEM_COMPONENTS = (
    "Portal", "Service", "API", "Platform", "Hub", "Gateway", "Warehouse", "Engine", "Console", "Store",
    "Tracker", "Manager", "Pipeline", "Lake", "Desk", "Studio", "Directory", "Ledger", "Scheduler", "Vault",
    "Connector", "Dashboard", "App", "Index", "Mart",
)
TEAMS = (
    "Platform", "Payments", "Growth", "Customer Experience", "People", "Finance Systems", "Data Engineering",
    "Security", "Operations", "Sales Systems", "Logistics", "Identity", "Marketing Technology",
)
SECURITY_MEASURES = (
    "Encryption at rest (AES-256)", "TLS 1.2+ in transit", "Role-based access control", "Multi-factor authentication",
    "Network segmentation and firewalls", "Audit logging", "Quarterly access reviews", "Pseudonymisation of identifiers",
    "Vulnerability scanning", "Backups tested quarterly", "Data loss prevention", "Key management in an HSM",
)
PARTY_PREFIXES = (
    "Blue", "North", "Bright", "Iron", "Silver", "Cedar", "Harbour", "Summit", "Quantum", "Nimbus", "Vertex",
    "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Helix", "Indigo", "Juniper", "Kestrel",
    "Lumen", "Meridian", "Nova", "Orbit", "Pioneer", "Quartz", "Raven", "Sterling", "Tidal", "Vector", "Willow", "Zenith",
)
PARTY_SERVICES = (
    ("Cloud", "Cloud hosting (IaaS)"), ("Mail", "Transactional email delivery"), ("Pay", "Payment processing"),
    ("Desk", "Customer support platform (SaaS)"), ("Metrics", "Product and web analytics"), ("Vault", "Backup and archiving"),
    ("ID", "Identity and access management"), ("CRM", "CRM (SaaS)"), ("Payroll", "Payroll bureau"),
    ("Reach", "Marketing automation"), ("Logs", "Log management and SIEM"), ("Meet", "Video conferencing"),
    ("Sign", "Electronic signatures"), ("Talent", "Recruitment platform"), ("Lingo", "Translation services"),
    ("Field", "Field engineering sub-contractor"), ("Secure", "Managed security operations (SOC)"), ("Data", "Data enrichment"),
)
PUBLIC_AUTHORITIES = (
    "HM Revenue & Customs", "Information Commissioner's Office", "Metropolitan Police Service", "National Crime Agency",
    "Financial Conduct Authority", "Department for Work and Pensions",
)
CLIENT_SECTORS = ("Retail", "Logistics", "Property", "Legal", "Travel", "Manufacturing", "Education Services", "Hospitality")
CERTIFICATIONS = ("ISO 27001", "SOC 2 Type II", "Cyber Essentials Plus", "ISO 27701")

# (name, business function, data uses, lawful basis, legitimate interest or None, data subjects)
ACTIVITY_TEMPLATES: tuple[tuple[str, str, tuple[str, ...], str, str | None, tuple[str, ...]], ...] = (
    ("Customer account management", "Customer Operations", ("essential.service",), "contract", None, ("customer",)),
    ("Order fulfilment and delivery", "Operations", ("essential.service.operations",), "contract", None, ("customer",)),
    ("Payment processing", "Finance", ("essential.service.payment_processing",), "contract", None, ("customer",)),
    ("Customer support", "Customer Experience", ("essential.service.operations.support",), "contract", None, ("customer",)),
    ("Statutory accounting and tax records", "Finance", ("finance", "essential.legal_obligation"), "legal_obligation", None, ("customer", "supplier_vendor")),
    ("Payroll and pensions", "People", ("employment",), "legal_obligation", None, ("employee",)),
    ("Recruitment", "People", ("employment.recruitment",), "legitimate_interests", "Assessing applicants' suitability for roles we advertise.", ("job_applicant",)),
    ("Fraud prevention", "Risk", ("essential.fraud_detection",), "legitimate_interests", "Preventing fraud against us and our customers.", ("customer",)),
    ("Information security monitoring", "Security", ("essential.service.security",), "legitimate_interests", "Keeping our systems and the data in them secure.", ("customer", "employee", "visitor")),
    ("Service improvement analytics", "Product", ("analytics.reporting.system.performance", "functional.service.improve"), "legitimate_interests", "Understanding how our services are used so we can improve them.", ("customer", "visitor")),
    ("Email marketing", "Marketing", ("marketing.communications.email",), "consent", None, ("customer", "prospect")),
    ("Website analytics cookies", "Marketing", ("analytics.reporting.content_performance",), "consent", None, ("visitor",)),
    ("Supplier management", "Procurement", ("operations",), "contract", None, ("supplier_vendor", "consultant")),
    ("Sales prospecting", "Sales", ("sales",), "legitimate_interests", "Developing business with organisations likely to need our services.", ("prospect",)),
    ("Employee administration", "People", ("employment",), "contract", None, ("employee",)),
    ("Regulatory reporting", "Compliance", ("essential.legal_obligation", "third_party_sharing.legal_obligation"), "legal_obligation", None, ("customer",)),
)
PROCESSOR_ACTIVITY_NAMES = ("Application hosting", "Managed database service", "Outsourced support desk", "Hosted e-commerce platform", "Managed backup service")
RETENTION_TEXTS = (
    "Duration of the contract plus 6 years (Limitation Act 1980 s5)",
    "6 years from the end of the financial year (Companies Act 2006 s388; HMRC records)",
    "Employment plus 6 years",
    "13 months",
    "90 days",
    "2 years after last interaction",
    "Until consent is withdrawn, then 30 days",
    "12 months after the application, unless hired",
)
FLOW_MECHANISMS = (("api", 40), ("batch_export", 15), ("replication", 10), ("backup", 10), ("streaming", 15), ("email", 5), ("manual", 3), ("remote_access", 2))

_SLUG = re.compile(r"[^a-z0-9]+")
_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _slug(text: str) -> str:
    """An Identifier from display text: lower case, runs of other characters become '-'."""
    slug = _SLUG.sub("-", text.lower().replace("&", "and")).strip("-")[:70] or "x"
    if not _IDENTIFIER.match(slug):
        raise ValueError(f"cannot make an identifier from {text!r}")
    return slug


class _Ids:
    """Unique ids across systems and parties (flows name either by id), made from names."""

    def __init__(self) -> None:
        self.taken: dict[str, int] = {}

    def make(self, text: str) -> str:
        base = _slug(text)
        count = self.taken.get(base, 0)
        self.taken[base] = count + 1
        ident = base if count == 0 else f"{base}-{count + 1}"
        while ident in self.taken and ident != base:  # '-2' of one name may be another's base
            count += 1
            ident = f"{base}-{count + 1}"
        self.taken.setdefault(ident, 1)
        return ident


@dataclass
class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them)."""

    items: tuple
    cum: list[float]

    @classmethod
    def of(cls, pairs) -> _Picker:
        items, weights = zip(*pairs)
        return cls(tuple(items), list(itertools.accumulate(weights)))

    def one(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]

    def many(self, rng: random.Random, k: int) -> list:
        total, cum, items = self.cum[-1], self.cum, self.items
        return [items[bisect.bisect(cum, rng.random() * total)] for _ in range(k)]


def _unique(values) -> list:
    """Order-preserving de-duplication (never iterate a set: string hashing varies per process)."""
    return list(dict.fromkeys(values))


# ------------------------------------------------------------------------------------------------
# Generator. Entries are plain dicts keyed by field name (the specs accept names and aliases);
# synth_spec validates them once, as a whole, at the end.
# ------------------------------------------------------------------------------------------------

class _Synth:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ids = _Ids()  # systems and parties share one namespace: a flow's "to" names either
        self.jurisdictions = load_jurisdictions()
        self.location_picker = _Picker.of((loc[0], loc[6]) for loc in LOCATIONS)
        self.location_country = {loc[0]: loc[4] for loc in LOCATIONS}
        self.country_picker = _Picker.of((c, w) for c, w, _ in PARTY_COUNTRIES)
        self.company_suffix = {c: s for c, _, s in PARTY_COUNTRIES}
        self.role_picker = _Picker.of([("processor", 70), ("sub_processor", 15), ("independent_controller", 7), ("client_controller", 5), ("group_company", 2), ("public_authority", 1)])
        self.dataset_pickers = [_Picker.of(weights.items()) for _, _, weights in DATASET_TEMPLATES]
        self.mechanism_picker = _Picker.of(FLOW_MECHANISMS)
        self._restricted: dict[tuple[str, tuple[str, ...]], bool] = {}

    def restricted_uk(self, country: str, certifications: tuple[str, ...] = ()) -> bool:
        """Whether a UK exporter needs a transfer mechanism to send data to this country and importer."""
        key = (country, certifications)
        if key not in self._restricted:
            status = self.jurisdictions.assess(Regime.UK_GDPR, "GB", country, frozenset(certifications)).status
            self._restricted[key] = status == TransferStatus.RESTRICTED
        return self._restricted[key]

    # ---- organisation and locations -----------------------------------------------------------
    @staticmethod
    def organisation() -> dict:
        return {
            "id": "synthetic-org", "name": "Synthetic Holdings Ltd", "registration": "00000000",
            "address": "1 Example Street, London, EC1A 1AA", "country": "GB", "email": "privacy@synthetic.example",
            "phone": "+44 20 7946 0000",
            "dpo": {"name": "Data Protection Officer", "email": "dpo@synthetic.example"},
            "eu_representative": {"name": "Synthetic EU Representative Ltd", "address": "Dublin", "email": "eurep@synthetic.example"},
            "regimes": ["uk_gdpr", "eu_gdpr"], "privacy_notice_url": "https://synthetic.example/privacy", "children_served": False,
        }

    @staticmethod
    def locations() -> list[dict]:
        return [
            {"id": ident, "name": name, "provider": provider, "city": city, "country": country, "kind": kind}
            for ident, name, provider, city, country, kind, _weight in LOCATIONS
        ]

    # ---- parties -------------------------------------------------------------------------------
    def parties(self, count: int) -> list[dict]:
        rng = self.rng
        parties: list[dict] = []
        processors: list[dict] = []
        # A fixed head so that every catalogue has an authority, two clients and a group company.
        head = ("public_authority", "client_controller", "client_controller", "group_company")
        for index in range(count):
            role = head[index] if index < len(head) else self.role_picker.one(rng)
            if role == "sub_processor" and not processors:
                role = "processor"
            parent = rng.choice(processors) if role == "sub_processor" else None
            country = "GB" if role == "public_authority" else self.country_picker.one(rng)
            if parent is not None and country == parent["country"] and rng.random() < 0.6:
                country = self.country_picker.one(rng)  # sub-processors are often abroad: onward transfers
            party = self._party(role, country, parent)
            parties.append(party)
            if role == "processor":
                processors.append(party)
        return parties

    def _party(self, role: str, country: str, parent: dict | None) -> dict:
        rng = self.rng
        suffix = self.company_suffix[country]
        party: dict = {"role": role, "country": country}
        if role == "public_authority":
            name = rng.choice(PUBLIC_AUTHORITIES)
            description = "Receives data on properly made requests or under legal powers."
        elif role == "client_controller":
            name = f"{rng.choice(PARTY_PREFIXES)} {rng.choice(CLIENT_SECTORS)} {suffix}"
            description = "Client on whose behalf we process personal data as processor."
        elif role == "group_company":
            name = f"Synthetic Holdings {self.jurisdictions.country_name(country)} {suffix}"
            description = "Group company providing shared services."
        else:
            word, service = rng.choice(PARTY_SERVICES)
            name = f"{rng.choice(PARTY_PREFIXES)}{word} {suffix}"
            description = service if role != "independent_controller" else f"{service}; uses the data for its own purposes."
        ident = self.ids.make(name)
        party.update(id=ident, name=name, description=description, contact={"name": f"{name} privacy team", "email": f"privacy@{ident}.example"})
        if role == "client_controller":
            party["dpo"] = {"name": f"{name} DPO", "email": f"dpo@{ident}.example"}
        if parent is not None:
            party["parent"] = parent["id"]
        certifications: list[str] = []
        if role in ("processor", "sub_processor"):
            party["contract_ref"] = f"DPA-{rng.randint(2019, 2025)}-{rng.randint(1, 999):03d}"
            if country == "US" and rng.random() < 0.55:
                certifications += ["DPF", "DPF-UK-Extension"] if rng.random() < 0.8 else ["DPF"]
            if rng.random() < 0.4:
                certifications.append(rng.choice(CERTIFICATIONS))
            if rng.random() < 0.2:
                extra = self.location_country[self.location_picker.one(rng)]
                if extra != country:
                    party["processing_countries"] = [extra]
        party["certifications"] = certifications
        # Most restricted importers have a transfer tool on record; the rest are gaps to find.
        if role != "public_authority" and self.restricted_uk(country, tuple(certifications)) and rng.random() < 0.7:
            party["transfer_mechanism"] = rng.choice(("uk_addendum", "eu_scc_module_3") if role == "sub_processor" else ("uk_idta", "uk_addendum"))
            party["transfer_assessment_ref"] = f"TRA-{rng.randint(2021, 2025)}-{rng.randint(1, 999):03d}"
        return party

    # ---- systems -------------------------------------------------------------------------------
    def systems(self, count: int, fields_per_system: int) -> tuple[list[dict], list[list[str]]]:
        """The systems, and for each the data categories its fields hold (in first-seen order)."""
        rng = self.rng
        systems: list[dict] = []
        held: list[list[str]] = []
        for _ in range(count):
            name = f"{rng.choice(SYSTEM_DOMAINS)} {rng.choice(SYSTEM_COMPONENTS)}"
            ident = self.ids.make(name)
            if ident != _slug(name):
                name = f"{name} {ident.rsplit('-', 1)[1]}"
            hosted = _unique(self.location_picker.many(rng, 1 if rng.random() < 0.75 else 2))
            team = rng.choice(TEAMS)
            roll = rng.random()
            datasets, categories = self._datasets(fields_per_system)
            systems.append({
                "id": ident, "name": name, "description": f"{name} ({team} team).", "owner_team": team,
                "owner_email": f"{_slug(team)}@synthetic.example", "role": "processor" if rng.random() < 0.08 else "controller",
                "status": "active" if roll < 0.9 else ("planned" if roll < 0.96 else "decommissioned"),
                "hosted_in": hosted, "security_measures": rng.sample(SECURITY_MEASURES, rng.randint(2, 4)), "datasets": datasets,
            })
            held.append(categories)
        return systems, held

    def _datasets(self, field_count: int) -> tuple[list[dict], list[str]]:
        rng = self.rng
        if field_count <= 0:
            return [], []
        dataset_count = min(field_count, rng.randint(1, 5))
        cuts = sorted(rng.sample(range(1, field_count), dataset_count - 1)) if dataset_count > 1 else []
        sizes = [end - start for start, end in zip([0, *cuts], [*cuts, field_count])]
        datasets: list[dict] = []
        tables: dict[str, int] = {}
        categories: dict[str, None] = {}
        for size in sizes:
            template = rng.randrange(len(DATASET_TEMPLATES))
            table_names, subjects, _weights = DATASET_TEMPLATES[template]
            table = rng.choice(table_names)
            seen = tables[table] = tables.get(table, 0) + 1
            if seen > 1:
                table = f"{table}_{seen}"
            fields: list[dict] = []
            used: dict[str, int] = {}
            for kind in self.dataset_pickers[template].many(rng, size):
                variants, cats, data_type, pseudonymised = FIELD_TEMPLATES[kind]
                n = used.get(kind, 0)
                used[kind] = n + 1
                # usual column names first, then numbered: email, email_address, ..., email_2, email_3
                name = variants[n] if n < len(variants) else f"{variants[0]}_{n - len(variants) + 2}"
                fields.append({"name": name, "data_type": data_type, "data_categories": list(cats), "pseudonymised": pseudonymised})
                for key in cats:
                    categories[key] = None
            dataset = {"name": table, "data_subjects": list(subjects), "fields": fields}
            if rng.random() < 0.3:
                dataset["retention"] = rng.choice(RETENTION_TEXTS)
            datasets.append(dataset)
        return datasets, list(categories)

    # ---- activities ----------------------------------------------------------------------------
    def activities(self, count: int, systems: list[dict], held: list[list[str]], parties: list[dict]) -> tuple[list[dict], list[list[str]]]:
        """The activities, and for each system the ids of the activities it runs in."""
        rng = self.rng
        taxonomy = load_taxonomy()
        clients = [p["id"] for p in parties if p["role"] == "client_controller"]
        recipients = [p["id"] for p in parties if p["role"] in ("processor", "independent_controller", "group_company", "public_authority")]
        by_system: list[list[str]] = [[] for _ in systems]
        activities: list[dict] = []
        ids = _Ids()  # activity ids have their own namespace
        for _ in range(count):
            members = rng.sample(range(len(systems)), min(len(systems), rng.randint(1, 5)))
            categories = _unique(key for index in members for key in held[index])
            activity: dict = {
                "systems": [systems[i]["id"] for i in members],
                "recipients": rng.sample(recipients, min(len(recipients), rng.randint(0, 3))),
                "data_categories": categories, "retention": rng.choice(RETENTION_TEXTS),
                "security_measures": rng.sample(SECURITY_MEASURES, 3),
            }
            if clients and rng.random() < 0.1:
                name = rng.choice(PROCESSOR_ACTIVITY_NAMES)
                controller = rng.choice(clients)
                activity.update(
                    role="processor", controller=controller, business_function="Managed Services",
                    purposes=["essential.service.operations"], data_subjects=["client_end_user"],
                    purpose_text=f"{name} on the documented instructions of the client ({controller}).",
                )
            else:
                name, function, uses, basis, interest, subjects = rng.choice(ACTIVITY_TEMPLATES)
                activity.update(
                    role="controller", business_function=function, purposes=list(uses), data_subjects=list(subjects),
                    purpose_text=f"{name}.", lawful_basis=basis,
                )
                if interest:
                    activity.update(legitimate_interest=interest, lia_link=f"https://synthetic.example/privacy/lia/{_slug(name)}")
                if basis == "consent":
                    activity["consent_record_link"] = "https://synthetic.example/privacy/consent-records"
                special = any(taxonomy.article9_category(key) for key in categories)
                if special and rng.random() < 0.8:  # the rest are missing conditions: findings to show
                    activity["article9_condition"] = "employment_social_security"
                    activity["schedule1_condition"] = "Part 1 para 1 (employment, social security and social protection)"
                if any(taxonomy.article10_category(key) for key in categories) and rng.random() < 0.8:
                    activity["article10_authority"] = "DPA 2018 Schedule 1 Part 1 para 1, with an appropriate policy document"
                if special:
                    activity.update(dpia_required=True, dpia_progress=rng.choice(("completed", "in_progress", "not_started")))
            activity.update(id=ids.make(name), name=name)
            activities.append(activity)
            for index in members:
                by_system[index].append(activity["id"])
        return activities, by_system

    # ---- flows ---------------------------------------------------------------------------------
    def flows(self, systems: list[dict], held: list[list[str]], by_system: list[list[str]], parties: list[dict]) -> list[dict]:
        """Exactly two flows per system: one to another system, one to a party or another system."""
        rng = self.rng
        flows: list[dict] = []
        flow_ids: dict[str, int] = {}
        receivers = [p for p in parties if p["role"] != "client_controller"]
        countries = [[self.location_country[loc] for loc in system["hosted_in"]] for system in systems]
        for index, source in enumerate(systems):
            for leg in range(2):
                flow: dict = {}
                if receivers and (len(systems) == 1 or (leg == 1 and rng.random() < 0.55)):
                    party = rng.choice(receivers)
                    target, label = party["id"], party["name"]
                    if party["role"] == "public_authority":
                        mechanism = "disclosure"
                    elif party["country"] in ("IN", "ZA", "BR") and rng.random() < 0.4:
                        mechanism = "remote_access"
                    else:
                        mechanism = self.mechanism_picker.one(rng)
                else:
                    other = rng.randrange(len(systems) - 1)
                    other += other >= index  # any system but this one
                    target, label = systems[other]["id"], systems[other]["name"]
                    mechanism = self.mechanism_picker.one(rng)
                    abroad = [c for c in countries[other] if c not in countries[index]]
                    if any(self.restricted_uk(c) for c in abroad) and rng.random() < 0.5:
                        flow["transfer_mechanism"] = "uk_idta"
                        flow["transfer_assessment_ref"] = f"TRA-{rng.randint(2021, 2025)}-{rng.randint(1, 999):03d}"
                pool = held[index]
                flow_id = f"{source['id']}-to-{target}"
                repeat = flow_ids[flow_id] = flow_ids.get(flow_id, 0) + 1
                flow.update(
                    # "." never occurs in system or party ids, so a repeat cannot clash with another pair's id
                    id=flow_id if repeat == 1 else f"{flow_id}.{repeat}",
                    from_system=source["id"], to=target, mechanism=mechanism,
                    data_categories=rng.sample(pool, min(len(pool), rng.randint(1, 5))) if pool else [],
                    encrypted_in_transit=rng.random() < 0.95, description=f"{source['name']} to {label}.",
                )
                if by_system[index]:
                    flow["activity"] = rng.choice(by_system[index])
                flows.append(flow)
        return flows

    # ---- field lineage -------------------------------------------------------------------------
    def field_lineage(self, systems: list[dict], flows: list[dict], seed: int) -> list[dict]:
        """For each category a system-to-system flow carries, one field of the source holding it
        feeds one field of the target holding it, so lineage runs across systems (and borders).
        Drawn from its own generator: the rest of the spec is the same with or without it."""
        rng = random.Random(f"{seed}-field-lineage")
        holders: dict[str, dict[str, list[tuple[str, str, bool]]]] = {}
        for system in systems:
            index = holders[system["id"]] = {}
            for dataset in system["datasets"]:
                for item in dataset["fields"]:
                    for key in item["data_categories"]:
                        index.setdefault(key, []).append((dataset["name"], item["name"], item["pseudonymised"]))
        lineage: list[dict] = []
        linked: set[tuple] = set()  # two flows between the same systems may pick the same pair of fields
        for flow in flows:
            source, target = holders[flow["from_system"]], holders.get(flow["to"])
            if target is None:
                continue  # a flow to a party: no fields on the other side
            for key in flow["data_categories"]:
                if key in source and key in target:
                    (from_table, from_field, _), (to_table, to_field, masked) = rng.choice(source[key]), rng.choice(target[key])
                    pair = (flow["from_system"], from_table, from_field, flow["to"], to_table, to_field)
                    if pair in linked:
                        continue
                    linked.add(pair)
                    lineage.append({
                        "from": {"system": flow["from_system"], "dataset": from_table, "field": from_field},
                        "to": {"system": flow["to"], "dataset": to_table, "field": to_field},
                        "transformation": "INDIRECT/HASH" if masked else "DIRECT/IDENTITY", "masking": masked,
                    })
        return lineage


def synth_spec(systems: int, fields_per_system: int, seed: int = 0, *, activities: int | None = None) -> CatalogSpec:
    """A deterministic synthetic catalogue: ``systems`` systems of exactly ``fields_per_system`` fields each.

    Also ``activities`` activities (default about ``systems / 10``, at least one when there are
    systems), ``max(8, systems / 4)`` parties, the fixed ~30 locations in 16 countries, and exactly
    two flows per system, with field lineage for the categories each flow between systems carries.
    The same arguments always give an equal spec; another seed another one.
    """
    if systems < 0 or fields_per_system < 0 or (activities is not None and activities < 0):
        raise ValueError("sizes must not be negative")
    rng = random.Random(seed)
    synth = _Synth(rng)
    with collector_paused():  # millions of short-lived acyclic objects: the cyclic collector only slows the build
        parties = synth.parties(max(8, round(systems / 4)))
        system_entries, held = synth.systems(systems, fields_per_system)
        count = activities if activities is not None else (max(1, round(systems / 10)) if systems else 0)
        activity_entries, by_system = synth.activities(count, system_entries, held, parties)
        flows = synth.flows(system_entries, held, by_system, parties)
        data = {
            "organisation": synth.organisation(), "locations": synth.locations(), "parties": parties,
            "systems": system_entries, "activities": activity_entries, "flows": flows,
            "field_lineage": synth.field_lineage(system_entries, flows, seed),
        }
        return CatalogSpec.model_validate(data)
