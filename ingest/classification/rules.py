"""What column names say: each category's name phrases, matched as whole tokens at the end of the name.

A phrase counts only when nothing but harmless suffixes follows it (``number``, ``no``, digits,
``line``...): ``contact_email`` and ``email_address`` are emails, ``email_verified``,
``phone_type`` and ``card_brand`` are about an email, a phone or a card but hold none. Words
written before a phrase can cancel it (``company_name`` is no person's name, ``mac_address`` no
street). Names in a few other languages (Spanish, French, German, Italian, Portuguese, Dutch) are
listed beside the English ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.classification import recognisers as r
from ingest.classification.recognisers import Recogniser
from ingest.classification.tokens import name_tokens


class TypeFamily:
    """What the declared column type allows a column to hold, as far as classification cares."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    BINARY = "binary"
    OTHER = "other"


@dataclass(frozen=True)
class NameRule:
    """One category as column names announce it.

    ``strength`` is what the name alone says (0-1); ``needs_person_table`` rules (a bare ``name``)
    count only in tables of people (customers, employees, ...); ``types`` are the type families
    the column may have.
    """

    category: str
    recogniser: Recogniser
    phrases: tuple[tuple[str, ...], ...]
    strength: float
    not_after: frozenset[str] = frozenset()
    needs_person_table: bool = False
    types: frozenset[str] = frozenset({TypeFamily.TEXT, TypeFamily.OTHER})
    direct_identifier: bool = True
    min_score: float = 0.4
    max_score: float = 1.0


def _phrases(*names: str) -> tuple[tuple[str, ...], ...]:
    """Phrases written as column names, tokenised the same way columns are."""
    return tuple(name_tokens(name) for name in names)


#: Tokens that may follow a phrase without changing what the column holds.
HARMLESS_SUFFIXES = frozenset({
    "number", "no", "num", "nr", "nbr", "nmbr", "value", "val", "text", "txt", "raw", "primary", "secondary",
    "main", "full", "plain", "line", "address", "addr", "encrypted", "enc", "masked", "personal", "private",
    "home", "work", "mobile", "contact", "current", "new", "old", "alt", "alternative", "other", "str", "string",
    "de", "del", "du", "di",
})
TEXT_LIKE = frozenset({TypeFamily.TEXT, TypeFamily.OTHER})
NUMBER_OR_TEXT = frozenset({TypeFamily.TEXT, TypeFamily.NUMBER, TypeFamily.OTHER})

#: Tables whose rows are people: a bare ``name`` column there is a person's name.
PERSON_TABLE_TOKENS = frozenset({
    "customer", "user", "person", "people", "employee", "member", "contact", "patient", "staff", "client", "student",
    "applicant", "candidate", "subscriber", "lead", "guest", "driver", "passenger", "owner", "author", "visitor",
    "tenant", "donor", "volunteer", "account", "profile", "cliente", "kunde", "kunden", "utilisateur", "usuario",
    "persona", "personne", "employe", "empleado", "mitarbeiter", "adherent", "socio", "beneficiary", "traveller",
    "holder", "buyer", "seller", "recipient", "signatory", "learner", "pupil", "worker", "contractor", "resident",
})
#: Words before ``name`` that make it the name of a thing, not of a person.
THING_NAMES = frozenset({
    "company", "business", "product", "file", "filename", "table", "column", "brand", "org", "organisation",
    "organization", "host", "hostname", "domain", "event", "campaign", "plan", "category", "city", "street",
    "country", "bank", "app", "application", "project", "team", "department", "dept", "group", "role", "service",
    "server", "device", "database", "schema", "field", "account", "merchant", "store", "shop", "venue", "site",
    "region", "model", "package", "feature", "job", "task", "course", "school", "town", "county", "state",
    "trading", "legal", "key", "tag", "label", "template", "queue", "topic", "metric", "workflow", "type", "sku",
    "item", "vendor", "supplier", "partner", "provider", "branch", "office", "building", "route",
    "plugin", "module", "class", "method", "function", "variable", "param", "parameter", "attribute", "bucket",
    "folder", "directory", "path", "image", "asset", "resource", "channel", "list", "segment", "pipeline",
    "environment", "env", "cluster", "node", "instance", "zone", "currency", "language", "locale",
    "pet", "room", "unit", "sheet", "report", "document", "doc", "policy", "rule", "setting", "option",
    "user",  # user_name is the account's username, its own category
})
NOT_A_STREET = frozenset({
    "email", "e", "mail", "ip", "mac", "wallet", "web", "url", "server", "host", "bitcoin", "btc", "eth", "crypto",
    "memory", "mem", "contract", "ipv4", "ipv6", "remote", "client", "bluetooth", "hardware", "network", "net",
    "correo", "electronico", "courriel", "sender", "reply", "to", "from", "cc", "bcc",
})
#: Places of a business: their address or postcode is no person's, whatever the values look like.
BUSINESS_PLACES = frozenset({
    "warehouse", "depot", "office", "branch", "store", "shop", "site", "registered", "company", "business",
    "supplier", "vendor", "premises", "venue", "factory", "plant", "building", "merchant", "organisation",
    "organization", "head", "hq", "facility", "server", "datacenter", "datacentre", "clinic", "practice", "surgery",
})
#: Words before a free-text phrase that make it text about a thing (product notes, release notes).
NOT_PERSONAL_TEXT = frozenset({
    "product", "item", "sku", "release", "version", "commit", "change", "build", "patch", "api", "job", "task",
    "category", "catalog", "catalogue", "menu", "plan", "feature", "config", "schema", "table", "column", "system",
})
NOT_A_SECRET = frozenset({
    "file", "content", "commit", "md5", "sha", "checksum", "row", "image", "url", "email", "phone", "card", "ip",
    "etag", "git", "block", "tx", "transaction", "document", "doc", "blob", "object", "page", "record", "data",
    "cache", "public", "geo", "location", "name", "address", "nhs", "ni", "iban", "account",
})

NOT_A_PAYMENT_CARD = frozenset({
    "gift", "loyalty", "id", "identity", "business", "sim", "report", "score", "key", "access", "membership",
    "reward", "rewards", "library", "time", "post", "greeting", "sd", "memory", "graphics", "video", "network",
    "red", "yellow", "green", "playing", "trading", "recipe", "index", "flash", "test",
})

#: Every rule, most specific first: on equal scores the earlier rule wins.
NAME_RULES: tuple[NameRule, ...] = (
    NameRule("user.contact.email", r.EMAIL, _phrases(
        "email", "e_mail", "mail", "email_address", "correo", "correo_electronico", "courriel", "adresse_mail",
        "adresse_email", "mel", "posta_elettronica", "e_post", "emailadresse",
    ), 0.7, not_after=frozenset({"voice", "snail", "chain", "junk"})),
    NameRule("user.contact.phone_number", r.PHONE, _phrases(
        "phone", "telephone", "tel", "phone_number", "mobile", "mobile_phone", "cell", "cellphone", "cell_phone",
        "landline", "msisdn", "telefono", "telefone", "telefon", "movil", "celular", "portable", "handy",
        "numero_telephone", "numero_de_telephone", "telefonnummer", "cellulare", "telefoon", "contact_number",
    ), 0.65, types=NUMBER_OR_TEXT),
    NameRule("user.device.ip_address", r.IP_ADDRESS, _phrases(
        "ip", "ipv4", "ipv6", "ip_address", "remote_addr", "client_addr", "source_ip", "inet", "direccion_ip", "adresse_ip",
    ), 0.65),
    NameRule("user.financial.credit_card", r.PAYMENT_CARD, _phrases(
        "card_number", "card_no", "card_num", "credit_card", "debit_card", "cc_number", "ccn", "pan",
        "primary_account_number", "card", "numero_tarjeta", "tarjeta", "numero_carte", "carte_bancaire", "kartennummer",
    ), 0.7, types=NUMBER_OR_TEXT, not_after=NOT_A_PAYMENT_CARD),
    NameRule("user.financial.bank_account", r.IBAN, _phrases("iban", "iban_number"), 0.75),
    NameRule("user.financial.bank_account", r.BANK_ACCOUNT, _phrases(
        "sort_code", "bank_sort_code", "sortcode", "bank_code", "account_number", "account_no", "acct_no", "acct_number",
        "acc_no", "bank_account", "bank_account_number", "bank_details", "bban", "numero_cuenta", "cuenta_bancaria",
        "kontonummer", "numero_compte", "rib",
    ), 0.65, types=NUMBER_OR_TEXT),
    NameRule("user.government_id.national_identification_number", r.NATIONAL_INSURANCE, _phrases(
        "ni_number", "ni_no", "nino", "nin", "national_insurance", "national_insurance_number", "nat_ins",
        "ssn", "social_security", "social_security_number", "national_id", "national_identity", "dni", "nie", "nif",
        "numero_securite_sociale", "nir", "codice_fiscale", "bsn", "sozialversicherungsnummer",
    ), 0.75),
    NameRule("user.health_and_medical.record_id", r.NHS_NUMBER, _phrases(
        "nhs", "nhs_number", "nhs_no", "nhs_id", "chi_number", "patient_nhs",
    ), 0.75, types=NUMBER_OR_TEXT),
    NameRule("user.government_id.passport_number", r.PASSPORT, _phrases(
        "passport", "passport_number", "passport_no", "passport_id", "pasaporte", "passeport", "reisepass", "passaporto",
    ), 0.75),
    NameRule("user.government_id.drivers_license_number", r.DRIVING_LICENCE, _phrases(
        "driving_licence", "driving_license", "drivers_license", "drivers_licence", "driver_license", "driver_licence",
        "dl_number", "licence_number", "license_number", "dvla_number", "permis_conduire", "permiso_conducir",
        "licencia_conducir", "fuhrerschein", "fuehrerschein", "patente",
    ), 0.75),
    NameRule("user.demographic.date_of_birth", r.BIRTH_DATE, _phrases(
        "dob", "date_of_birth", "birth_date", "birthdate", "birthday", "born_on", "born", "birth", "fecha_nacimiento",
        "fecha_de_nacimiento", "date_naissance", "date_de_naissance", "geburtsdatum", "data_nascita",
        "data_di_nascita", "data_nascimento", "geboortedatum",
    ), 0.7, types=frozenset({TypeFamily.TEXT, TypeFamily.DATE, TypeFamily.OTHER}), direct_identifier=False),
    NameRule("user.name.first", r.PERSON_NAME, _phrases(
        "first_name", "given_name", "forename", "forenames", "fname", "prenom", "nombre_pila", "vorname", "voornaam",
        "primeiro_nome", "christian_name",
    ), 0.7, not_after=THING_NAMES),
    NameRule("user.name.last", r.PERSON_NAME, _phrases(
        "last_name", "surname", "family_name", "lname", "maiden_name", "apellido", "apellidos", "nachname",
        "familienname", "cognome", "achternaam", "sobrenome", "nom_de_famille",
    ), 0.7, not_after=THING_NAMES),
    NameRule("user.name", r.PERSON_NAME, _phrases(
        "full_name", "fullname", "middle_name", "person_name", "customer_name", "contact_name", "display_name",
        "legal_name", "cardholder_name", "account_holder", "account_holder_name", "nombre_completo", "nom_complet",
        "nome_completo", "name_on_card", "holder_name", "employee_name", "patient_name", "next_of_kin",
    ), 0.7, not_after=frozenset({"company", "business", "file", "product", "brand"})),
    NameRule("user.name", r.PERSON_NAME, _phrases("name", "nom", "nombre", "nome", "naam"), 0.5,
             not_after=THING_NAMES, needs_person_table=True),
    NameRule("user.contact.address.postal_code", r.UK_POSTCODE, _phrases(
        "postcode", "post_code", "postal_code", "zip", "zip_code", "zipcode", "code_postal", "codigo_postal",
        "plz", "postleitzahl", "cep",
    ), 0.65, not_after=BUSINESS_PLACES | {"mail"}, direct_identifier=False),
    NameRule("user.contact.address.street", r.STREET_ADDRESS, _phrases(
        "address", "street", "street_address", "addr", "home_address", "postal_address", "address_line",
        "adresse", "direccion", "indirizzo", "endereco", "strasse", "anschrift", "domicilio",
        "house_number", "house_name",
    ), 0.55, not_after=NOT_A_STREET | BUSINESS_PLACES),
    NameRule("user.authorization.credentials", r.SECRET, _phrases(
        "password", "passwd", "pwd", "pass_hash", "passcode", "password_hash", "secret", "client_secret", "token",
        "api_key", "apikey", "access_key", "secret_key", "private_key", "access_token", "refresh_token", "auth_token",
        "session_token", "otp_secret", "totp_secret", "mfa_secret", "pin", "contrasena", "mot_de_passe",
        "passwort", "kennwort", "wachtwoord",
    ), 0.7, not_after=NOT_A_SECRET, direct_identifier=False),
    # a bare hash or salt is a password's only in a table of people (elsewhere: file and content hashes)
    NameRule("user.authorization.credentials", r.SECRET, _phrases("hash", "salt"), 0.6,
             not_after=NOT_A_SECRET, needs_person_table=True, direct_identifier=False),
    NameRule("user.content.private", r.FREE_TEXT, _phrases(
        "notes", "note", "comments", "comment", "remarks", "remark", "message", "memo", "feedback", "free_text",
        "notas", "nota", "comentarios", "commentaire", "commentaires", "bemerkung", "bemerkungen", "notizen",
        "observaciones", "observations",
    ), 0.25, not_after=NOT_PERSONAL_TEXT, direct_identifier=False, min_score=0.2, max_score=0.35),
    NameRule("user.content.private", r.FREE_TEXT, _phrases("description", "bio", "about", "body", "biography"), 0.25,
             not_after=NOT_PERSONAL_TEXT, needs_person_table=True, direct_identifier=False, min_score=0.2, max_score=0.35),
)

#: Categories that identify a person on their own: the benchmark's headline figures.
DIRECT_IDENTIFIERS = frozenset(rule.category for rule in NAME_RULES if rule.direct_identifier)


#: What match_name returns when a phrase ends the name but the word before it cancels it (``warehouse_address``).
CANCELLED: tuple[str, ...] = ()


def match_name(tokens: tuple[str, ...], rule: NameRule) -> tuple[str, ...] | None:
    """The tokens of ``rule``'s longest phrase that ends the name (harmless suffixes aside), or None.

    :data:`CANCELLED` when the name says the column is about something else (``company_name``,
    ``warehouse_address``): then the values may not suggest the category either.
    """
    best: tuple[str, ...] | None = None
    cancelled = False
    for phrase in rule.phrases:
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            if tokens[start:start + size] != phrase:
                continue
            rest = tokens[start + size:]
            if not all(token in HARMLESS_SUFFIXES or token.isdigit() for token in rest):
                continue
            if start > 0 and tokens[start - 1] in rule.not_after:
                cancelled = True
                continue
            if best is None or size > len(best):
                best = phrase
    return CANCELLED if best is None and cancelled else best
