"""Edits of YAML configs (Goose, Continue) with ruamel.yaml's round-trip mode: comments, order and quoting stay.

The file's own indentation style (sequences flush with their key, or indented) is detected and kept; a
BOM and CRLF line endings are taken off for the edit and put back afterwards.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from grok_mcp.clients.errors import ConfigShapeError, ConfigSyntaxError, line_and_column, too_long_number


def _yaml_for(text: str) -> Any:
    yaml: Any = YAML(typ="rt")  # ruamel.yaml ships no complete type information
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long path onto two lines
    match = re.search(r"^( +)\S", text, re.MULTILINE)
    mapping = len(match.group(1)) if match else 2
    flush = re.search(r"^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- ", text, re.MULTILINE)
    if flush:
        yaml.indent(mapping=mapping, sequence=mapping, offset=0)
    else:
        yaml.indent(mapping=mapping, sequence=mapping + 2, offset=mapping)
    return yaml


def _unconstructable(text: str, path: Path) -> ConfigSyntaxError:
    """The error for a document whose value ruamel.yaml refused with ValueError, at the too long number if any.

    The ValueError's own text is not shown: it can quote the file, and client configs hold tokens.
    """
    found = re.search(rf"-?[0-9_]{{{sys.get_int_max_str_digits() + 1},}}", text)
    if found is None:
        return ConfigSyntaxError(path, 1, 1, "a value cannot be read as YAML data", "YAML")
    line, column = line_and_column(text, found.start())
    return ConfigSyntaxError(path, line, column, too_long_number(found.group().replace("_", "")), "YAML")


@dataclass(frozen=True)
class YamlFormat:
    """A YAML config whose servers are a map (Goose `extensions`) or a list of `{name: …}` (Continue)."""

    is_keyed_list: bool = False
    label: str = "YAML"

    def _load(self, text: str, path: Path) -> tuple[Any, Any]:
        crlf = "\r\n" in text
        plain = text.replace("\r\n", "\n") if crlf else text
        yaml = _yaml_for(plain)
        try:
            data: Any = yaml.load(plain)
        except MarkedYAMLError as exc:
            error: Any = exc
            mark: Any = error.problem_mark or error.context_mark
            line, column = (int(mark.line) + 1, int(mark.column) + 1) if mark is not None else (1, 1)
            raise ConfigSyntaxError(path, line, column, str(error.problem or error.context), "YAML") from None
        except YAMLError as exc:
            raise ConfigSyntaxError(path, 1, 1, str(exc).splitlines()[0], "YAML") from None
        except RecursionError:
            raise ConfigSyntaxError(path, 1, 1, "nested too deeply", "YAML") from None
        except ValueError:  # a value ruamel.yaml cannot construct: a too long integer, an impossible date
            raise _unconstructable(plain, path) from None
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise ConfigShapeError(f"{path} does not hold a YAML mapping at the top. Grok MCP changed nothing.")
        return yaml, data

    def _dump(self, yaml: Any, data: Any, original: str) -> str:
        if not data:
            return ""
        out = io.StringIO()
        yaml.dump(data, out)
        text = out.getvalue()
        return text.replace("\n", "\r\n") if "\r\n" in original else text

    def load(self, text: str, path: Path) -> dict[str, Any]:
        """The document as plain data (a blank file is empty). Raises ConfigSyntaxError/ConfigShapeError."""
        document = self._load(text, path)[1]
        budget = [_expansion_budget(text)]
        try:
            return _plain(document, budget)
        except _AliasBomb:
            raise ConfigSyntaxError(
                path, 1, 1, "its aliases (*name) repeat one part so often that it would not fit in memory", "YAML"
            ) from None
        except RecursionError:
            raise ConfigSyntaxError(path, 1, 1, "nested too deeply", "YAML") from None

    def _container(self, data: Any, path: Path, container: str) -> Any:
        value: Any = data.get(container)
        expected = CommentedSeq if self.is_keyed_list else CommentedMap
        if value is not None and not isinstance(value, expected):
            kind = "a list" if self.is_keyed_list else "a mapping"
            raise ConfigShapeError(f"`{container}` in {path} is not {kind}. Grok MCP changed nothing.")
        return value

    def set_entry(self, text: str, path: Path, container: str, name: str, entry: dict[str, Any]) -> tuple[str, bool]:
        """Add or replace our entry; returns the new text and whether `container` was created."""
        yaml, data = self._load(text, path)
        servers = self._container(data, path, container)
        created = servers is None
        value = CommentedMap(entry)
        if self.is_keyed_list:
            items: Any = servers if servers is not None else CommentedSeq()
            for index, item in enumerate(cast(list[Any], items)):
                if isinstance(item, dict) and cast(dict[str, Any], item).get("name") == name:
                    items[index] = value
                    break
            else:
                items.append(value)
            data[container] = items
        else:
            mapping: Any = servers if servers is not None else CommentedMap()
            mapping[name] = value
            data[container] = mapping
        return self._dump(yaml, data, text), created

    def remove_entry(self, text: str, path: Path, container: str, name: str, *, drop_empty_container: bool) -> str:
        """Remove our entry (and an emptied container when asked)."""
        yaml, data = self._load(text, path)
        servers = self._container(data, path, container)
        if servers is None:
            return text
        if self.is_keyed_list:
            items = cast(list[Any], servers)
            keep = [
                i
                for i, item in enumerate(items)
                if not (isinstance(item, dict) and cast(dict[str, Any], item).get("name") == name)
            ]
            if len(keep) == len(items):
                return text
            for index in reversed(range(len(items))):
                if index not in keep:
                    del items[index]
        else:
            mapping = cast(dict[str, Any], servers)
            if name not in mapping:
                return text
            del mapping[name]
        if drop_empty_container and not servers:
            del data[container]
        return self._dump(yaml, data, text)


class _AliasBomb(Exception):
    """Aliases expand the document past its budget of values (the "billion laughs" file)."""


def _expansion_budget(text: str) -> int:
    """How many values a document of `text` may expand to. Without aliases a value takes at least one character
    of text, so only aliases that repeat a part many times over reach this."""
    return 2 * len(text) + 10_000


def _plain(value: Any, budget: list[int]) -> Any:
    """Plain dicts and lists, every alias expanded, within `budget[0]` values; raises _AliasBomb past it."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _AliasBomb
    if isinstance(value, dict):
        return {str(k): _plain(v, budget) for k, v in cast(dict[Any, Any], value).items()}
    if isinstance(value, list):
        return [_plain(v, budget) for v in cast(list[Any], value)]
    return value
