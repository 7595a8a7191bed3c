"""Create examples/database/crm.sqlite: a small CRM database for the demo system `crm`.

Standard library only. All values are fake test data in valid formats (example.com addresses,
Ofcom drama numbers 07700 900xxx, the QQ NI-number prefix that is never issued, test sort codes).

    .venv/bin/python examples/database/make_crm_db.py [OUTPUT]     # default: examples/database/crm.sqlite
    .venv/bin/ropa ingest database sqlite:///examples/database/crm.sqlite --system crm
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).with_name("crm.sqlite")

SCHEMA = """
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    company_number TEXT,
    sector TEXT
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    job_title TEXT,
    work_email TEXT NOT NULL UNIQUE,
    work_phone TEXT,
    postcode TEXT,
    ni_number TEXT,                 -- sole traders only, for CIS tax returns
    notes TEXT,                     -- free text typed by account managers
    email_verified INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,             -- client portal login
    created_at TEXT NOT NULL
);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    invoice_number TEXT NOT NULL UNIQUE,
    amount_pence INTEGER NOT NULL,
    issued_on TEXT NOT NULL,
    payer_sort_code TEXT,
    payer_account_number TEXT,
    card_number TEXT                -- card payments taken by phone (test numbers only)
);
"""

ORGANISATIONS = [
    (1, "Westway Property Management Ltd", "09876543", "Property"),
    (2, "Harrow Dental Partners LLP", "OC412345", "Healthcare"),
    (3, "Pinner Joinery", None, "Trades"),
    (4, "Northolt Logistics Ltd", "11223344", "Logistics"),
]

CONTACTS = [
    (1, 1, "Amelia", "Hughes", "IT Manager", "amelia.hughes@westway-pm.example.com", "020 7946 0018", "HA9 7AB", None,
     "Prefers calls after 2pm. Renewal due in March.", 1, "$2b$12$KIX0cQ8WmFh3Zr9Qw1pPZeB6m6b7lS0gq7o2d8wq0m7o5uJ3pQ9yC", "2023-02-14"),
    (2, 1, "Oliver", "Patel", "Finance Director", "oliver.patel@westway-pm.example.com", "020 7946 0457", "HA9 0WS", None,
     "Signs purchase orders over 5k.", 1, "$2b$12$9sQf1lYyq0bqk8k1o9wq3e8jv1o3XbqC6V2k1m0W5z8d7R4y2nT6a", "2023-02-14"),
    (3, 2, "Priya", "Shah", "Practice Manager", "priya.shah@harrowdental.example.com", "020 7946 0921", "HA1 2TU", None,
     "Asked us not to call during clinic hours.", 0, None, "2024-06-03"),
    (4, 3, "Tomasz", "Nowak", "Owner", "tom@pinnerjoinery.example.com", "07700 900123", "HA5 3EX", "QQ123456C",
     "Sole trader; home office visits by appointment.", 1, "$2b$12$Lm3n0pQ8rS1tU6vW7xY9zAa2b4c6d8e0f1g3h5i7j9k2l4m6n8p0q", "2024-09-21"),
    (5, 4, "Grace", "O'Connor", "Operations Lead", "grace.oconnor@northolt-logistics.example.com", "07700 900456", "UB5 6AA", None,
     "Met at the Harrow business expo.", 0, None, "2025-01-10"),
    (6, 4, "Daniel", "Okafor", "IT Support", "daniel.okafor@northolt-logistics.example.com", "07700 900789", "UB5 4LX", "QQ654321A",
     "Contractor, paid via CIS.", 1, "$2b$12$Qr7s9tU1vW3xY5zA7bC9dE1fG3hI5jK7lM9nO1pQ3rS5tU7vW9xYz", "2025-03-02"),
]

INVOICES = [  # sort codes 40-xx-xx/20-xx-xx style test values; Luhn-valid test card numbers
    (1, 1, "INV-2025-0101", 125000, "2025-01-31", "40-47-84", "70872490", None),
    (2, 2, "INV-2025-0102", 98000, "2025-02-28", "20-00-00", "55779911", None),
    (3, 3, "INV-2025-0117", 45000, "2025-03-31", "60-16-13", "31926819", "4111111111111111"),
    (4, 4, "INV-2025-0133", 18000, "2025-04-30", "30-94-57", "12345678", "5555555555554444"),
    (5, 5, "INV-2025-0150", 210000, "2025-05-31", "40-47-84", "24681357", None),
    (6, 6, "INV-2025-0168", 36000, "2025-06-30", "20-32-06", "13579246", "4000056655665556"),
]


def build(output: Path | str = DEFAULT_OUTPUT) -> Path:
    """Write the database to ``output`` (replacing it) and return its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    with sqlite3.connect(output) as connection:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO organisations VALUES (?, ?, ?, ?)", ORGANISATIONS)
        connection.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", CONTACTS)
        connection.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", INVOICES)
    connection.close()
    return output


if __name__ == "__main__":
    path = build(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT)
    print(f"Wrote {path}")
