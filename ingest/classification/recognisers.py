"""Value recognisers: does one sampled value look like an email, a card number, an NI number, ...?

Each recogniser answers for one value and never keeps it. Checks are strict on purpose (check
digits, prefix rules, ranges), because the share of a sample that matches is the evidence a
person reviews: a loose pattern would make every column of digits look like a phone number.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.gb import nhs as stdnum_nhs

from ingest.classification.tokens import plain_text

#: Longer values are cut before any check: enough for every identifier, bounded work per value.
MAX_VALUE_LENGTH = 1000
DEFAULT_PHONE_REGION = "GB"


def normalise_value(value: object) -> object | None:
    """A sampled value as the recognisers read it: text cut and stripped, integral decimals, UUIDs and
    IP address objects (PostgreSQL's numeric, uuid, inet) as text, dates as dates; None for the rest."""
    if value is None or isinstance(value, (bool, bytes, bytearray, memoryview)):
        return None
    if isinstance(value, str):
        text = value[:MAX_VALUE_LENGTH].strip()
        return text or None
    if isinstance(value, (date, int)):
        return value
    if isinstance(value, Decimal):
        return str(int(value)) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):  # subclasses of the address types
        return str(value.ip)
    if isinstance(value, (UUID, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    return None


def as_text(value: object) -> str | None:
    """The value as stripped text, or None for what no text recogniser reads (bytes, booleans, None)."""
    if value is None or isinstance(value, (bool, bytes, bytearray, memoryview)):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value[:MAX_VALUE_LENGTH].strip()
    return None


_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def is_email(value: object) -> bool:
    text = as_text(value)
    return bool(text) and len(text) <= 254 and text.find("@") <= 64 and _EMAIL.match(text) is not None


_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]{6,24}$")


def is_phone(value: object, region: str = DEFAULT_PHONE_REGION) -> bool:
    """A number written as people write telephone numbers: leading + or 0, 7 to 15 digits, a possible number."""
    text = as_text(value)
    if not text or not _PHONE_CHARACTERS.match(text) or text.lstrip("(")[:1] not in ("+", "0"):
        return False
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 15 or text.count(".") == 3:  # 010.001.002.003 is an IP address
        return False
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def is_ip_address(value: object) -> bool:
    text = as_text(value)
    if not text or isinstance(value, int) or len(text) > 45:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_CARD_CHARACTERS = re.compile(r"^[0-9][0-9 \-]{11,22}[0-9]$")
#: Issuer prefixes (IIN ranges) of the card schemes in use: a Luhn-valid number outside them is not a card.
_CARD_PREFIXES = re.compile(r"^(4|5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|3[0689]|35|6011|64[4-9]|65|62|5[06-9]|6\d)")


def is_payment_card(value: object) -> bool:
    text = as_text(value)
    if not text or not _CARD_CHARACTERS.match(text):
        return False
    digits = text.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and _CARD_PREFIXES.match(digits) is not None and luhn.is_valid(digits)


def is_iban(value: object) -> bool:
    text = as_text(value)
    return bool(text) and 15 <= len(text) <= 42 and text[:2].isalpha() and stdnum_iban.is_valid(text)


_SORT_CODE_DASHED = re.compile(r"^\d{2}-\d{2}-\d{2}$")
_SORT_CODE_ANY = re.compile(r"^\d{2}[- ]?\d{2}[- ]?\d{2}$")


def is_sort_code(value: object) -> bool:
    """A UK sort code as written for people: 12-34-56 (distinctive enough to count on its own)."""
    text = as_text(value)
    return bool(text) and _SORT_CODE_DASHED.match(text) is not None


def is_sort_code_or_digits(value: object) -> bool:
    """12-34-56, 12 34 56 or 123456: only evidence when the column name says sort code."""
    text = as_text(value)
    return bool(text) and _SORT_CODE_ANY.match(text) is not None


def is_uk_account_number(value: object) -> bool:
    """Eight digits (UK bank account numbers; some banks use 6 to 10): evidence only beside the name."""
    text = as_text(value)
    return bool(text) and text.isdigit() and 6 <= len(text) <= 10


def is_bank_account(value: object) -> bool:
    """Any way a bank account is written: IBAN, sort code, or account number."""
    return is_iban(value) or is_sort_code_or_digits(value) or is_uk_account_number(value)


# HMRC rules: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; some prefixes never
# allocated; suffix A-D.
_NINO = re.compile(r"^([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])\s?(\d{2})\s?(\d{2})\s?(\d{2})\s?([A-D])$")
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def is_national_insurance_number(value: object) -> bool:
    text = as_text(value)
    if not text or len(text) > 13:
        return False
    match = _NINO.match(text.upper())
    return match is not None and match.group(1) not in _NINO_UNUSED_PREFIXES


_NHS_FORMAT = re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")


def is_nhs_number(value: object) -> bool:
    """Ten digits (optionally 3-3-4) whose mod-11 check digit is right."""
    text = as_text(value)
    return bool(text) and _NHS_FORMAT.match(text) is not None and stdnum_nhs.is_valid(text)


_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ](\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y]) ?\d[ABD-HJLNP-UW-Z]{2})$"
)


def is_uk_postcode(value: object) -> bool:
    text = as_text(value)
    return bool(text) and len(text) <= 8 and _POSTCODE.match(text.upper()) is not None


_DATE_TEXT = (
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), (3, 2, 1)),
)
#: Oldest plausible age for a living data subject.
MAX_AGE_YEARS = 120


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value)
    if not text or isinstance(value, int):
        return None
    for pattern, (year, month, day) in _DATE_TEXT:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match.group(year)), int(match.group(month)), int(match.group(day)))
            except ValueError:
                return None
    return None


def is_birth_date(value: object, today: date | None = None) -> bool:
    """A date in the past, at most 120 years ago."""
    found = _as_date(value)
    today = today or date.today()
    return found is not None and today.year - MAX_AGE_YEARS <= found.year and found <= today


_NAME_WORD = re.compile(r"^[A-Z][a-z]*(?:['\-][A-Z]?[a-z]+)*\.?$|^(?:Mc|Mac|O')[A-Z][a-z]+$|^(?:de|van|von|da|di|le|la|del|der|den|du|bin|al)$")


def is_person_name(value: object) -> bool:
    """One to four capitalised words of letters, as names are written."""
    text = as_text(value)
    if not text or len(text) > 80:
        return False
    words = text.split()
    return 1 <= len(words) <= 4 and all(_NAME_WORD.match(plain_text(word)) for word in words)


_STREET_WORDS = re.compile(
    r"\b(street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|way|court|ct|place|pl|crescent|terrace|gardens|grove|"
    r"square|sq|hill|park|row|mews|walk|parade|boulevard|blvd|highway|rue|avenida|calle|strasse|straße|via|weg|plaza)\b",
    re.IGNORECASE,
)


def is_street_address(value: object) -> bool:
    """Text with a house number or flat and a street word: '12 Acacia Avenue', 'Flat 3, 9 Mill Lane'."""
    text = as_text(value)
    return bool(text) and 5 <= len(text) <= 300 and any(char.isdigit() for char in text) and _STREET_WORDS.search(text) is not None


_PASSPORT = re.compile(r"^[A-Z0-9]{6,10}$")


def is_passport_number(value: object) -> bool:
    """6 to 10 letters and digits with at least 6 digits (UK: 9 digits); evidence only beside the name."""
    text = as_text(value)
    return bool(text) and _PASSPORT.match(text.upper()) is not None and sum(c.isdigit() for c in text) >= 6


# DVLA licence number: 5 of surname (padded with 9), decade digit, month (+5 for women), day, year digit,
# 2 initials (9 padded), a check digit, 2 letters.
_UK_DRIVING_LICENCE = re.compile(r"^[A-Z9]{5}\d[0156]\d[0-3]\d\d[A-Z9]{2}\d[A-Z]{2}$")


def is_uk_driving_licence(value: object) -> bool:
    text = as_text(value)
    return bool(text) and _UK_DRIVING_LICENCE.match(text.upper().replace(" ", "")) is not None


_HASHED_SECRET = re.compile(
    r"^(\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2(id|i|d)\$\S+|\$(pbkdf2|scrypt|[156])[-$]\S+|pbkdf2_\w+\$\S+|"
    r"[0-9a-fA-F]{32,128}|[A-Za-z0-9+/_\-]{20,}={0,2})$"
)


def is_secret_like(value: object) -> bool:
    """A password hash, key or token: bcrypt/argon2/pbkdf2 strings, long hex or base64 without spaces."""
    text = as_text(value)
    return bool(text) and _HASHED_SECRET.match(text) is not None


def is_free_text(value: object) -> bool:
    """Prose: at least 20 characters with spaces between words."""
    text = as_text(value)
    return bool(text) and len(text) >= 20 and text.count(" ") >= 2


@dataclass(frozen=True)
class Recogniser:
    """A named value check. ``alone`` is the weight its share carries without the column name's support
    (0: it never decides alone, e.g. eight digits could be anything)."""

    name: str
    matches: Callable[[object], bool]
    alone: float = 0.0


EMAIL = Recogniser("email", is_email, alone=0.9)
PHONE = Recogniser("phonenumbers", is_phone, alone=0.75)
IP_ADDRESS = Recogniser("ipaddress", is_ip_address, alone=0.9)
PAYMENT_CARD = Recogniser("luhn", is_payment_card, alone=0.9)
IBAN = Recogniser("iban", is_iban, alone=0.9)
SORT_CODE = Recogniser("sort_code", is_sort_code, alone=0.6)
BANK_ACCOUNT = Recogniser("bank_account", is_bank_account)
NATIONAL_INSURANCE = Recogniser("ni_number", is_national_insurance_number, alone=0.9)
NHS_NUMBER = Recogniser("nhs_mod11", is_nhs_number, alone=0.8)
UK_POSTCODE = Recogniser("uk_postcode", is_uk_postcode, alone=0.85)
BIRTH_DATE = Recogniser("birth_date", is_birth_date)
PERSON_NAME = Recogniser("person_name", is_person_name)
STREET_ADDRESS = Recogniser("street_address", is_street_address, alone=0.6)
PASSPORT = Recogniser("passport_format", is_passport_number)
DRIVING_LICENCE = Recogniser("uk_driving_licence", is_uk_driving_licence, alone=0.85)
SECRET = Recogniser("secret_format", is_secret_like)
FREE_TEXT = Recogniser("free_text", is_free_text)
