"""Column names as whole tokens, so ``email_verified`` is a flag and not an email.

Names are split at underscores, punctuation, camelCase humps and digit runs, lower-cased, with
accents removed (``correo_electrónico`` -> ``correo electronico``). A few names written as one
word are split into their parts (``emailaddress``, ``firstname``) and common abbreviations are
read as their word (``cust_nm`` -> ``customer name``, ``birth_dt`` -> ``birth date``), so rules match whole tokens
only and never substrings (``zip`` is not in ``ship``, ``ip`` is not in ``zip``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

#: Names commonly written as one word, split into the tokens the rules use.
COMPOUNDS: dict[str, tuple[str, ...]] = {
    "emailaddress": ("email", "address"),
    "firstname": ("first", "name"),
    "lastname": ("last", "name"),
    "fullname": ("full", "name"),
    "middlename": ("middle", "name"),
    "givenname": ("given", "name"),
    "familyname": ("family", "name"),
    "username": ("user", "name"),
    "dateofbirth": ("date", "of", "birth"),
    "birthdate": ("birth", "date"),
    "phonenumber": ("phone", "number"),
    "phoneno": ("phone", "no"),
    "mobilenumber": ("mobile", "number"),
    "ipaddress": ("ip", "address"),
    "ipaddr": ("ip", "address"),
    "sortcode": ("sort", "code"),
    "accountnumber": ("account", "number"),
    "accountno": ("account", "no"),
    "cardnumber": ("card", "number"),
    "creditcard": ("credit", "card"),
    "postalcode": ("postal", "code"),
    "zipcode": ("zip", "code"),
    "streetaddress": ("street", "address"),
    "apikey": ("api", "key"),
    "nhsnumber": ("nhs", "number"),
    "passportnumber": ("passport", "number"),
}


#: Abbreviations common in column names, read as the word they stand for.
ABBREVIATIONS: dict[str, str] = {
    "nm": "name", "nme": "name", "addr": "address", "adr": "address", "eml": "email", "mob": "mobile",
    "dt": "date", "cust": "customer", "acct": "account", "usr": "user", "emp": "employee", "tele": "telephone",
}


def plain_text(text: str) -> str:
    """Accents removed, so names in other languages match their ASCII spelling."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """``contactEmail_2`` -> ``('contact', 'email', '2')``."""
    tokens: list[str] = []
    for word in _WORDS.findall(plain_text(name)):
        lowered = word.lower()
        for token in COMPOUNDS.get(lowered, (lowered,)):
            tokens.append(ABBREVIATIONS.get(token, token))
    return tuple(tokens)


def singular(token: str) -> str:
    """``customers`` -> ``customer``: enough to read a table name as the kind of record it holds."""
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith("ss") and len(token) > 3:
        return token[:-1]
    return token
