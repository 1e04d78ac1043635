"""Regenerate the Python modules of the wire contract from protos/fleetbench/v1/*.proto.

Run ``python -m protos.generate`` from the repository root after editing a .proto file; the
test suite fails while the committed modules are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = Path("protos") / "fleetbench" / "v1"


def generate(out_dir: Path = REPO_ROOT) -> list[Path]:
    """Compile every .proto of the contract into ``out_dir``; return the files written.

    Parameters
    ----------
    out_dir : Path
        Root under which ``protos/fleetbench/v1/*_pb2.py`` and ``.pyi`` are written.
    """
    sources = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / PROTO_DIR).glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    code = protoc.main(
        ["protoc", f"-I{REPO_ROOT}", f"-I{include}", f"--python_out={out_dir}", f"--pyi_out={out_dir}", *sources]
    )
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code} on {sources}")
    return sorted((out_dir / PROTO_DIR).glob("*_pb2.py*"))


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path, file=sys.stderr)
