"""Safe YAML loading that remembers the line of every key and list item.

Only plain YAML is accepted: the node tree is composed with ``yaml.SafeLoader`` and every tag is
checked against the safe constructors before anything is built, so ``!!python/object`` and
friends are refused with a located error instead of being run. Duplicate keys, which PyYAML
silently lets the last one win, are errors too. Lines are kept in a map from path tuples
(``("systems", 0, "datasets", 1)``) to 1-based line numbers, so validation errors found later
can point back into the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from catalog.apply import Loc
from ingest.errors import IngestError, LocatedError, format_field_path

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"

#: Nodes one document may expand to (aliases included): stops "billion laughs" alias bombs.
MAX_NODES = 1_000_000

#: Levels of nesting one document may have: a catalogue needs about ten, and Python's own stack
#: would give out at a few hundred.
MAX_DEPTH = 100

#: What PyYAML's safe constructors raise for a value that does not fit its tag (``!!bool maybe``,
#: ``!!int ''``, ``!!timestamp x``, ``0x_``, ``2024-13-45``), besides its own YAMLError.
CONSTRUCTOR_FAILURES = (ValueError, OverflowError, LookupError, AttributeError, TypeError)


@dataclass(frozen=True)
class YamlDocument:
    """A loaded file: its data and the line of each path in it."""

    file: str  # as shown in messages
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, path: Loc) -> int | None:
        """Line of ``path``, or of its deepest part present in the file (a missing key: its parent's line)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(STANDARD_TAG_PREFIX) if tag.startswith(STANDARD_TAG_PREFIX) else tag


class _TooLarge(Exception):
    pass


class _Builder:
    """Builds Python data from a composed node tree, recording lines and collecting errors."""

    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, file: str):
        self.loader, self.file = loader, file
        self.lines: dict[Loc, int] = {}
        self.errors: list[LocatedError] = []
        self._active: set[int] = set()
        self._count = 0

    def error(self, node: Node, message: str, path: Loc = ()) -> None:
        self.errors.append(LocatedError(message, self.file, node.start_mark.line + 1, node.start_mark.column + 1, format_field_path(path)))

    def allowed(self, node: Node, path: Loc) -> bool:
        if node.tag in yaml.SafeLoader.yaml_constructors:
            return True
        self.error(node, f"tag '{_short_tag(node.tag)}' is not allowed: manifests are plain YAML, read with the safe loader", path)
        return False

    def build(self, node: Node, path: Loc) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise _TooLarge
        self.lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > MAX_DEPTH:
            self.error(node, f"nested more than {MAX_DEPTH} levels deep", path)
            return None
        if isinstance(node, ScalarNode):  # most nodes; a scalar cannot contain itself
            if node.tag == STR_TAG:
                return node.value  # what the constructor would return, without its bookkeeping (most scalars are strings)
            return self.construct(node, path) if self.allowed(node, path) else None  # the other safe scalars
        if not self.allowed(node, path):
            return None
        if id(node) in self._active:
            self.error(node, "an alias refers to the node that contains it (recursive YAML)", path)
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode) and node.tag == MAP_TAG:
                return self.mapping(node, path)
            if isinstance(node, SequenceNode) and node.tag == SEQ_TAG:
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self.construct(node, path)  # the other safe tags (sets, ordered maps)
        finally:
            self._active.discard(id(node))

    def construct(self, node: Node, path: Loc) -> Any:
        """A value of a safe tag other than text and plain collections (a number, a date, a set),
        built by PyYAML's constructor: a value that does not fit its tag (``0x_``, ``2024-13-45``,
        ``!!bool maybe``) is an error at its place, not a crash."""
        try:
            return self.loader.construct_object(node, deep=True)
        except CONSTRUCTOR_FAILURES as error:
            tag = _short_tag(node.tag)
            if not isinstance(node, ScalarNode):
                self.error(node, f"a value in this {tag} does not fit its tag", path)
            else:
                reason = f" ({error})" if isinstance(error, (ValueError, OverflowError)) else ""
                if not node.style and _plain_scalar_tag(node.value) == node.tag:  # YAML took plain text for a number or date
                    self.error(node, f"'{node.value}' reads as {tag} but is not a valid one{reason}; quote it if it is text", path)
                else:  # the file asked for the tag
                    self.error(node, f"'{node.value}' is not a valid {tag}{reason}", path)
            return None

    def mapping(self, node: MappingNode, path: Loc) -> dict[Any, Any]:
        own_keys = {id(key) for key, _ in node.value if key.tag != MERGE_TAG}
        pairs = node.value
        if len(own_keys) != len(pairs):  # '<<: *defaults' merge keys: merged entries come first, own keys override
            flat = MappingNode(node.tag, list(pairs), node.start_mark, node.end_mark)
            self.loader.flatten_mapping(flat)
            pairs = flat.value
        result: dict[Any, Any] = {}
        declared: dict[Any, int] = {}
        for key_node, value_node in pairs:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, "a key must be a plain value, not a list or mapping", path)
                continue
            if key_node.tag == STR_TAG:
                key = key_node.value  # most keys: what the constructor would return, without its bookkeeping
            elif not self.allowed(key_node, path):
                continue
            else:
                key = self.construct(key_node, path)
            line = key_node.start_mark.line + 1
            if id(key_node) in own_keys:
                if key in declared:
                    self.error(key_node, f"duplicate key '{key}' (first at line {declared[key]})", (*path, key))
                    continue
                declared[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result


def _parser_error(error: yaml.YAMLError, file: str, text: str) -> LocatedError:
    """The parser's own problem and position: what a person needs to find the typo."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or getattr(error, "reason", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        context += f" started at line {context_mark.line + 1}"
    message = f"malformed YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return LocatedError(message, file, mark.line + 1, mark.column + 1)
    position = getattr(error, "position", None)  # ReaderError: a character YAML does not allow
    line = text[:position].count("\n") + 1 if isinstance(position, int) else None
    return LocatedError(message, file, line)


@lru_cache(maxsize=1 << 16)
def _plain_scalar_tag(value: str) -> str:
    """The tag YAML 1.1 gives an unquoted scalar (str, int, bool, timestamp...): with no path
    resolvers it depends on the text alone, and manifests repeat theirs (keys, categories)."""
    return yaml.resolver.BaseResolver.resolve(_TAG_RESOLVER, ScalarNode, value, (True, False))


class _RememberingResolver:
    """Resolves each distinct unquoted scalar once, where PyYAML runs its regular expressions for
    every scalar (about a tenth off parsing a manifest)."""

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            return _plain_scalar_tag(value)
        return super().resolve(kind, value, implicit)


class _SafeLoader(_RememberingResolver, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser when PyYAML was built with it (it composes the node tree several times
    faster), else PyYAML's own; safe constructors only."""


_TAG_RESOLVER = yaml.resolver.Resolver()


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; raise IngestError with every problem found, located."""
    try:
        loader = _SafeLoader(text)
    except yaml.YAMLError as error:  # a character YAML does not allow
        raise IngestError([_parser_error(error, file, text)]) from None
    builder = _Builder(loader, file)
    try:
        root = loader.get_single_node()
        data = builder.build(root, ()) if root is not None else None
    except yaml.YAMLError as error:
        raise IngestError([_parser_error(error, file, text)]) from None
    except _TooLarge:
        raise IngestError([LocatedError(f"document expands to more than {MAX_NODES} nodes (aliases repeated too often)", file)]) from None
    finally:
        loader.dispose()
    if builder.errors:
        raise IngestError(builder.errors)
    return YamlDocument(file, data, builder.lines)


def load_yaml(path: Path, file: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; ``file`` is the name shown in messages (default: the path)."""
    shown = file or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise IngestError([LocatedError(f"not UTF-8 text ({error.reason} at byte {error.start})", shown)]) from None
    except OSError as error:
        raise IngestError([LocatedError(f"cannot read file: {error.strerror}", shown)]) from None
    return parse_yaml(text, shown)
