"""Runs shellcheck on every `run:` script of the actions (actionlint checks only workflows),
and on the scripts they share under actions/lib/.

Each script is checked as bash, the shell every step declares; `${{ }}` never appears inside
a script (the action contract test forbids it), so the text is what the runner executes.
"""
import glob
import subprocess
import sys
import tempfile

import yaml

failed = False
with tempfile.TemporaryDirectory() as tmp:
    for path in sorted(glob.glob("actions/*/action.yml")):
        action = yaml.safe_load(open(path))
        # A JavaScript action (`runs.using: node24`) has no steps, hence no scripts.
        for index, step in enumerate(action["runs"].get("steps", [])):
            if "run" not in step:
                continue
            if step.get("shell") != "bash":
                print(f"{path}: step {step.get('id', index)} must declare `shell: bash`")
                failed = True
                continue
            script = f"{tmp}/{path.split('/')[1]}-{step.get('id', index)}.sh"
            with open(script, "w") as f:
                f.write("#!/usr/bin/env bash\n" + step["run"])
            result = subprocess.run(["shellcheck", "-S", "warning", script])
            if result.returncode != 0:
                print(f"^ {path}, step {step.get('id', index)}")
                failed = True
for path in sorted(glob.glob("actions/lib/*.sh")):
    result = subprocess.run(["shellcheck", "-S", "warning", path])
    if result.returncode != 0:
        print(f"^ {path}")
        failed = True
sys.exit(1 if failed else 0)
