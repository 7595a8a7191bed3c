"""A small, complete catalogue built in code, so tests do not depend on the demo files.

UK controller with a UK CRM, an Irish backup, a US analytics processor (with and without DPF),
an Indian support sub-contractor reached by remote access (restricted, no mechanism: a gap),
and a processor record for a hosting client.
"""

import sqlalchemy as sa
from sqlmodel import SQLModel

from catalog.specs import CatalogSpec


def small_spec_data() -> dict:
    return {
        "organisation": {
            "id": "acme", "name": "Acme IT Ltd", "address": "1 High St, London", "country": "GB",
            "email": "privacy@acme.example", "phone": "+44 20 0000 0000",
            "dpo": {"name": "Dee Pio", "email": "dpo@acme.example"},
            "regimes": ["uk_gdpr", "eu_gdpr"],
        },
        "locations": [
            {"id": "lon", "name": "London DC", "provider": "Acme", "city": "London", "country": "GB"},
            {"id": "dub", "name": "Dublin region", "provider": "Cloudco", "city": "Dublin", "country": "IE", "kind": "cloud_region"},
        ],
        "parties": [
            {"id": "cloudco", "name": "Cloudco Inc", "role": "processor", "country": "US", "certifications": ["DPF", "DPF-UK-Extension"], "contract_ref": "DPA-2024-01"},
            {"id": "metrics", "name": "Metrics LLC", "role": "processor", "country": "USA", "transfer_mechanism": "uk_idta", "contract_ref": "DPA-2024-02"},
            {"id": "helpdesk-in", "name": "Helpdesk India Pvt", "role": "sub_processor", "country": "IN", "parent": "cloudco"},
            {"id": "client-a", "name": "Client A plc", "role": "client_controller", "country": "GB", "contact": {"name": "Client A DPO", "email": "dpo@client-a.example"}},
        ],
        "systems": [
            {
                "id": "crm", "name": "CRM", "owner_team": "Sales", "owner_email": "sales@acme.example", "hosted_in": ["lon"],
                "datasets": [{"name": "contacts", "data_subjects": ["customer"], "fields": [
                    {"name": "email", "categories": ["user.contact.email"]},
                    {"name": "full_name", "categories": ["user.name"]},
                    {"name": "sort_code", "categories": ["user.financial.bank_account"]},
                ]}],
            },
            {"id": "backup", "name": "Backup vault", "hosted_in": ["dub"], "datasets": [{"name": "snapshots", "fields": [{"name": "blob", "categories": ["user.contact.email", "user.name"]}]}]},
            {"id": "hosting", "name": "Client hosting", "role": "processor", "hosted_in": ["lon"]},
        ],
        "activities": [
            {
                "id": "client-management", "name": "Client management", "business_function": "Sales",
                "purposes": ["essential.service"], "purpose": "Manage client contracts",
                "data_subjects": ["customer"], "data_categories": ["user.contact.email"],
                "lawful_basis": "contract", "retention": "6 years after contract end",
                "systems": ["crm", "backup"], "recipients": ["cloudco"],
            },
            {
                "id": "hosting-service", "name": "Application hosting", "role": "processor", "controller": "client-a",
                "purposes": ["essential.service.operations"], "systems": ["hosting"],
            },
        ],
        "flows": [
            {"id": "crm-backup", "from": "crm", "to": "backup", "categories": ["user.contact.email", "user.name"], "mechanism": "backup", "activity": "client-management"},
            {"id": "crm-cloudco", "from": "crm", "to": "cloudco", "categories": ["user.contact.email"], "activity": "client-management"},
            {"id": "crm-metrics", "from": "crm", "to": "metrics", "categories": ["user.contact.email"]},
            {"id": "crm-helpdesk", "from": "crm", "to": "helpdesk-in", "categories": ["user.name"], "mechanism": "remote_access", "activity": "client-management"},
        ],
    }


def small_spec() -> CatalogSpec:
    return CatalogSpec.model_validate(small_spec_data())


def table_counts(catalog) -> dict[str, int]:
    """Rows in every table: a run that fails must leave all of them as they were."""
    with catalog.engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
