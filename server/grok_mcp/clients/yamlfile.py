"""Edits of YAML configs (Goose, Continue) with ruamel.yaml's round-trip mode: comments, order and quoting stay.

The file's own indentation style (sequences flush with their key, or indented) is detected and kept; a
BOM and CRLF line endings are taken off for the edit and put back afterwards.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from grok_mcp.clients.errors import ConfigShapeError, ConfigSyntaxError


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
        return _plain(self._load(text, path)[1])

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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in cast(dict[Any, Any], value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in cast(list[Any], value)]
    return value
