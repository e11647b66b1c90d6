"""The GitHub Action (action.yml) and the Azure Pipelines template (ci/azure-pipelines/vdcaudit.yml)
as CI runs them: the YAML is parsed, the inputs / parameters substituted into every `${{ }}`, and
every script step is run with bash the way each runner does, in order, against the fixtures.

Two stand-ins, because the real ones need a hosted runner: `python -m pip install X` records X (the
test checks it is this project) instead of installing it, and `vdcaudit` runs this checkout
(`python -m vdcaudit`). Steps that call a marketplace action or task (setup-python, upload-sarif,
PublishTestResults) are not run; the test checks that what they are handed exists and is valid.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
import yaml

REPO = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
IAC = REPO / "fixtures" / "iac"


@pytest.fixture
def shims(tmp_path: Path) -> dict[str, str]:
    """PATH with the `python` (pip) and `vdcaudit` stand-ins; PIP_LOG lists what pip was asked for."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "pip.log"
    (folder / "python").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$@" >> "$PIP_LOG"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n')
    (folder / "vdcaudit").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vdcaudit "$@"\n')
    for shim in folder.iterdir():
        shim.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "PIP_LOG": str(log),
            "PYTHONPATH": str(REPO)}


def substitute(text: Any, values: dict[str, str]) -> Any:
    if not isinstance(text, str):
        return text
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"unknown expression ${{{{ {name} }}}}"
        return values[name]
    return EXPRESSION.sub(value, text)


def condition_holds(condition: str, values: dict[str, str]) -> bool:
    """The one form of `if:` the action uses: ${{ NAME == 'VALUE' }}."""
    match = re.fullmatch(r"\$\{\{\s*(\S+)\s*==\s*'([^']*)'\s*\}\}", condition.strip())
    assert match, f"unexpected condition {condition}"
    return values[match.group(1)] == match.group(2)


def pip_targets(env: dict[str, str]) -> list[str]:
    log = Path(env["PIP_LOG"])
    return [line.split()[-1] for line in log.read_text().splitlines()] if log.exists() else []


def test_github_action_installs_scans_uploads_and_gates(tmp_path: Path, shims: dict[str, str],
                                                        sarif_validator: jsonschema.Validator) -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update({"scan": f"--template {IAC / 'main.json'} --parameters {IAC / 'main.parameters.json'} "
                           f"--config {IAC / 'vdcaudit.yaml'}", "out": str(tmp_path / "reports"), "category": "templates"})
    values = {f"inputs.{k}": v for k, v in inputs.items()} | {"github.action_path": str(REPO)}
    output_file, summary = tmp_path / "github_output", tmp_path / "summary.md"
    ran, uploaded, exit_codes = [], None, []
    for step in action["runs"]["steps"]:
        outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines()) if output_file.exists() else {}
        values |= {f"steps.scan.outputs.{k}": v for k, v in outputs.items()}
        if "uses" in step:
            if "upload-sarif" in step["uses"]:
                assert condition_holds(step.get("if", "true"), values)
                uploaded = {k: substitute(v, values) for k, v in step["with"].items()}
            continue
        assert step["shell"] == "bash"
        env = {**shims, "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary),
               **{k: substitute(v, values) for k, v in (step.get("env") or {}).items()}}
        script = substitute(step["run"], values)
        # how GitHub runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        ran.append(step["name"])
        exit_codes.append(done.returncode)
        if done.returncode:
            break  # a failed step ends the job
    assert ran == ["Install vdcaudit", "Scan", "Gate"]
    assert pip_targets(shims) == [str(REPO)]
    assert exit_codes == [0, 0, 1]  # the template has high-severity gaps: the gate fails after the upload
    assert uploaded is not None and uploaded["category"] == "templates"
    sarif = json.loads(Path(uploaded["sarif_file"]).read_text())
    assert not list(sarif_validator.iter_errors(sarif))
    assert "automationDetails" not in sarif["runs"][0]  # upload-sarif's category applies
    assert sarif["runs"][0]["results"] and "vdcaudit" in summary.read_text()


def test_azure_pipelines_template_installs_scans_and_publishes(tmp_path: Path, shims: dict[str, str]) -> None:
    template = yaml.safe_load((REPO / "ci" / "azure-pipelines" / "vdcaudit.yml").read_text())
    staging = tmp_path / "staging"
    macros = {"$(Build.ArtifactStagingDirectory)": str(staging), "$(Build.SourcesDirectory)": str(tmp_path / "src")}
    parameters = {p["name"]: str(p.get("default", "")) for p in template["parameters"]}
    parameters.update({"scan": f"--terraform-plan {IAC / 'plan.json'} --config {IAC / 'vdcaudit.yaml'}",
                       "package": str(REPO)})
    values = {f"parameters.{k}": v for k, v in parameters.items()}

    def resolve(value: Any) -> Any:
        text = substitute(value, values)
        for macro, replacement in macros.items():
            text = text.replace(macro, replacement) if isinstance(text, str) else text
        return text

    failed, published = False, {}
    for step in template["steps"]:
        condition = step.get("condition", "succeeded()")
        if failed and condition != "succeededOrFailed()":
            continue
        if "task" in step:
            published[step["task"] + ":" + str(step.get("displayName", ""))] = \
                {k: resolve(v) for k, v in (step.get("inputs") or {}).items()}
            continue
        env = {**shims, **{k: resolve(v) for k, v in (step.get("env") or {}).items()}}
        # how Azure Pipelines runs `script` on Linux: bash --noprofile --norc <file>
        done = subprocess.run(["bash", "--noprofile", "--norc", "-c", resolve(step["script"])], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        failed = failed or done.returncode != 0
        assert done.returncode in (0, 1), done.stderr  # 1: the gate; anything else is a broken step
    assert pip_targets(shims) == [str(REPO)]
    assert failed  # the plan has high-severity gaps: the scan step fails the job, publishing still runs
    junit = next(v for k, v in published.items() if k.startswith("PublishTestResults"))
    assert junit["testResultsFormat"] == "JUnit"
    schema = xmlschema.XMLSchema(str(REPO / "tests" / "data" / "junit-10.xsd"))
    schema.validate(junit["testResultsFiles"])
    sarif = next(v for k, v in published.items() if v.get("artifact") == "CodeAnalysisLogs")
    assert json.loads(Path(sarif["targetPath"]).read_text())["version"] == "2.1.0"
    report = next(v for k, v in published.items() if v.get("artifact") == "vdcaudit-report")
    assert (Path(report["targetPath"]) / "vdcaudit-report.html").is_file()
