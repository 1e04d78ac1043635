"""The release as JSON: what the aggregator exports and what every site keeps and reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from common.atomic_file import write_text_atomically
from protos.fleetbench.v1 import release_pb2


def release_to_dict(release: release_pb2.Release) -> dict[str, Any]:
    """The release as plain JSON-ready data (protobuf JSON mapping, field names as in the .proto)."""
    return json_format.MessageToDict(
        release, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def export_json(release: release_pb2.Release, path: Path) -> None:
    """Write the release as JSON atomically: a reader sees the old file or the new, never a part."""
    write_text_atomically(path, json.dumps(release_to_dict(release), indent=1))


def read_release_json(path: Path) -> release_pb2.Release:
    """Read a release written by :func:`export_json` (unknown fields are refused)."""
    return json_format.ParseDict(json.loads(Path(path).read_text(encoding="utf-8")), release_pb2.Release())
