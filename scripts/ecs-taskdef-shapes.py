#!/usr/bin/env python3
"""Writes the RegisterTaskDefinition and CreateService shapes deckhand-core validates files against.

Reads the ECS service model that botocore ships (the model the AWS SDKs are generated from) from
the repo's venv, .venv/lib/python3.*/site-packages/botocore/data/ecs/2014-11-13/service-2.json
(botocore ships it gzipped as service-2.json.gz; both are read). botocore's version is pinned in
world/requirements.txt, and world/install.sh installs it into .venv.

Output: crates/deckhand-core/src/ecs/register_task_definition.shapes.json, the input shape of
RegisterTaskDefinition and every shape it reaches, reduced to what validation needs:
  structure  members (name -> target shape), required, union
  list       member, min/max (item count)
  map        key, value
  string     enum, min/max (length)
  integer, long, double, float  min/max
  boolean, timestamp
plus `describeOnly`: the members of the TaskDefinition that DescribeTaskDefinition returns and
RegisterTaskDefinition does not take (deckhand-core checks them against READ_ONLY_FIELDS).

Second output: crates/deckhand-core/src/ecs/create_service.shapes.json, the same for CreateService
(service definition files, `--service-definition`), plus `updatable`: the CreateService members
that UpdateService also takes (the others cannot change in place).
Documentation, patterns and deprecation notes are dropped. The output is deterministic: sorted
keys, one shape a line (so a model update reads as a small diff).

Regenerate (after bumping botocore in world/requirements.txt and running world/install.sh):
    .venv/bin/python scripts/ecs-taskdef-shapes.py
Check that the committed file is what the pinned botocore gives (scripts/test.sh runs this, and
so does the deckhand-core test `ecs::taskdef_shape::tests::shapes_file_is_generated_from_the_venvs_botocore`):
    .venv/bin/python scripts/ecs-taskdef-shapes.py --check
Standard library only; any python3 works, it does not import botocore.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "crates/deckhand-core/src/ecs/register_task_definition.shapes.json"
OPERATION = "RegisterTaskDefinition"
DESCRIBED = "TaskDefinition"
SERVICE_OUTPUT = ROOT / "crates/deckhand-core/src/ecs/create_service.shapes.json"
SERVICE_OPERATION = "CreateService"
SERVICE_UPDATE = "UpdateService"
MODEL_DIR = "botocore/data/ecs/2014-11-13"

SCALARS = {"string", "integer", "long", "boolean", "double", "float", "timestamp"}
NUMBERS = {"integer", "long", "double", "float"}


def find_botocore(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages/botocore"))
    if not found:
        sys.exit(
            f"ecs-taskdef-shapes: no botocore in {venv} "
            "(run world/install.sh, which installs world/requirements.txt)"
        )
    return found[-1]


def load_model(botocore: Path) -> dict:
    model = botocore.parent / MODEL_DIR / "service-2.json"
    if model.exists():
        return json.loads(model.read_text(encoding="utf-8"))
    packed = model.with_name("service-2.json.gz")
    if packed.exists():
        with gzip.open(packed, "rt", encoding="utf-8") as f:
            return json.load(f)
    sys.exit(f"ecs-taskdef-shapes: neither {model} nor {packed} exists")


def botocore_version(botocore: Path) -> str:
    text = (botocore / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.MULTILINE)
    if not m:
        sys.exit(f"ecs-taskdef-shapes: no __version__ in {botocore / '__init__.py'}")
    return m.group(1)


def reduce_shape(shape: dict) -> dict:
    kind = shape["type"]
    out: dict = {"type": kind}
    if kind == "structure":
        out["members"] = {name: m["shape"] for name, m in shape["members"].items()}
        if shape.get("required"):
            out["required"] = sorted(shape["required"])
        if shape.get("union"):
            out["union"] = True
    elif kind == "list":
        out["member"] = shape["member"]["shape"]
    elif kind == "map":
        out["key"] = shape["key"]["shape"]
        out["value"] = shape["value"]["shape"]
    elif kind in SCALARS:
        if kind == "string" and "enum" in shape:
            # The model's order (the API reference's), not sorted: messages list them so.
            out["enum"] = list(shape["enum"])
    else:
        sys.exit(f"ecs-taskdef-shapes: shape type `{kind}` is not handled")
    if kind in NUMBERS | {"list", "string"}:
        for bound in ("min", "max"):
            if bound in shape:
                out[bound] = shape[bound]
    return out


def reachable(shapes: dict, root: str) -> dict:
    out: dict = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        reduced = reduce_shape(shapes[name])
        out[name] = reduced
        if reduced["type"] == "structure":
            todo.extend(reduced["members"].values())
        elif reduced["type"] == "list":
            todo.append(reduced["member"])
        elif reduced["type"] == "map":
            todo.extend([reduced["key"], reduced["value"]])
    return out


def dump(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def generate(model: dict, version: str) -> str:
    shapes = model["shapes"]
    root = model["operations"][OPERATION]["input"]["shape"]
    register_members = set(shapes[root]["members"])
    describe_only = sorted(set(shapes[DESCRIBED]["members"]) - register_members)
    head = {
        "api": f"{model['metadata']['endpointPrefix']} {model['metadata']['apiVersion']}",
        "botocore": version,
        "describeOnly": describe_only,
        "generatedBy": "scripts/ecs-taskdef-shapes.py (do not edit; regenerate)",
        "input": root,
    }
    return layout(head, reachable(shapes, root))


def generate_service(model: dict, version: str) -> str:
    shapes = model["shapes"]
    root = model["operations"][SERVICE_OPERATION]["input"]["shape"]
    update = model["operations"][SERVICE_UPDATE]["input"]["shape"]
    create_members = set(shapes[root]["members"])
    head = {
        "api": f"{model['metadata']['endpointPrefix']} {model['metadata']['apiVersion']}",
        "botocore": version,
        "generatedBy": "scripts/ecs-taskdef-shapes.py (do not edit; regenerate)",
        "input": root,
        "updatable": sorted(create_members & set(shapes[update]["members"])),
    }
    return layout(head, reachable(shapes, root))


def layout(head: dict, reduced: dict) -> str:
    lines = [f"{json.dumps(k)}:{dump(v)}," for k, v in sorted(head.items())]
    lines.append('"shapes":{')
    body = [f"{json.dumps(k)}:{dump(v)}" for k, v in sorted(reduced.items())]
    lines.append(",\n".join(body))
    lines.append("}")
    text = "{\n" + "\n".join(lines) + "\n}\n"
    # The layout is ours; the content must still be exactly the sorted JSON above.
    assert json.loads(text) == {**head, "shapes": reduced}
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the venv with botocore")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not what it would write"
    )
    parser.add_argument("--service-output", type=Path, default=SERVICE_OUTPUT)
    args = parser.parse_args()
    botocore = find_botocore(args.venv)
    model = load_model(botocore)
    version = botocore_version(botocore)
    outputs = [
        (args.output, generate(model, version)),
        (args.service_output, generate_service(model, version)),
    ]
    if args.check:
        stale = 0
        for output, text in outputs:
            current = output.read_text(encoding="utf-8") if output.exists() else ""
            if current == text:
                continue
            stale += 1
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                str(output),
                "generated",
                n=0,
            )
            sys.stderr.writelines(diff)
            print(
                f"ecs-taskdef-shapes: {output} is not what botocore "
                f"{version} gives; run: .venv/bin/python scripts/ecs-taskdef-shapes.py",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for output, text in outputs:
        output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
