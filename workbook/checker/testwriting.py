"""The checker for exercises where the learner writes tests (test_echo, test_rooms).

The learner's tests run once, in pytest, against the correct consumer and every
broken one of ``buggy_consumers``: all must pass on the first, and each broken
one must make at least one test fail. A test that asserts nothing catches no bug;
a test that always fails fails on the correct consumer: neither passes.
"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

from ..exercises import Exercise
from ..paths import REPO_DIR
from .buggy_consumers import VARIANTS, Bug
from .outcome import ERROR, FAILED, PASSED, LearnerCodeError, Outcome, Status
from .tracebacks import repo_relative

PYTEST_SECONDS = 120  # the whole run, every variant; normally a few seconds
TEST_SECONDS = 20  # one test: a receive without a timeout must not hang the check
_VARIANT = re.compile(r"^(?P<test>.+)\[(?P<variant>[\w-]+)\]$")

Results = dict[str, dict[str, str]]  # test name -> variant -> failure text ("" when it passed)


def check_tests(exercise: Exercise, learner_file: Path) -> Outcome:
    hint = f"python -m workbook hint {exercise.id}"
    learner_path = repo_relative(learner_file)
    try:
        compile(learner_file.read_text(), str(learner_file), "exec")
    except SyntaxError as error:
        problem = LearnerCodeError.from_exception(error, learner_file, "reading your tests")
        return Outcome(exercise.id, ERROR, str(problem), f"fix the error in {learner_path}", details=problem.details)
    correct, bugs = VARIANTS[exercise.id]
    try:
        results, collection_error = _run_pytest(exercise.id, learner_file, ["correct"] + [b[0] for b in bugs])
    except subprocess.TimeoutExpired:
        return Outcome(
            exercise.id,
            ERROR,
            f"your tests did not finish in {PYTEST_SECONDS} s",
            "give every receive a timeout, e.g. receive_json_from(timeout=1)",
        )
    if collection_error:
        return Outcome(
            exercise.id,
            ERROR,
            f"pytest could not load {learner_file.name}: {collection_error[0]}",
            f"fix the error in {learner_path}",
            details=collection_error[1:],
        )
    if not results:
        return Outcome(
            exercise.id,
            FAILED,
            f"{learner_file.name} has no tests",
            f"write async functions named test_... in {learner_path}; stuck? {hint}",
        )
    for test, by_variant in results.items():
        failure = by_variant.get("correct")
        if failure:
            status, words = _describe_failure(failure)
            return Outcome(
                exercise.id,
                status,
                f"your test {test} fails on the correct consumer: {words}",
                f"a test must pass when the consumer is right: fix the test, not the consumer; stuck? {hint}",
            )
    missed = [
        (name, what) for name, _, what in bugs if not any(by_variant.get(name) for by_variant in results.values())
    ]
    if missed:
        first = missed[0][1]
        more = "".join(f"; nor when it {what}" for _, what in missed[1:])
        return Outcome(
            exercise.id,
            FAILED,
            f"your tests pass on the correct consumer but none of them fails when the consumer {first}{more}",
            f"add a test that this bug breaks; stuck? {hint}",
        )
    return Outcome(
        exercise.id,
        PASSED,
        f"your {len(results)} tests pass on the correct consumer and catch all {len(bugs)} broken ones",
    )


def _run_pytest(exercise_id: str, learner_file: Path, variants: list[str]) -> tuple[Results, list[str] | None]:
    """{test name: {variant: failure text, or "" when it passed}}, and a collection error if any."""
    with tempfile.TemporaryDirectory(prefix="workbook-tests-check-") as folder:
        report = Path(folder) / "report.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(learner_file),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "workbook.checker.pytest_fixtures",
            "--noconftest",
            "-c",
            str(REPO_DIR / "pyproject.toml"),
            "--rootdir",
            str(REPO_DIR),
            f"--junitxml={report}",
            "-o",
            f"timeout={TEST_SECONDS}",
        ]
        env = {**os.environ, "WORKBOOK_TEST_VARIANTS": f"{exercise_id}={','.join(variants)}"}
        run = subprocess.run(command, cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=PYTEST_SECONDS)
        if not report.exists():
            lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
            return {}, lines[-1:] or ["pytest did not run"]
        return _read_report(report, learner_file)


def _read_report(report: Path, learner_file: Path) -> tuple[Results, list[str] | None]:
    results: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for case in ElementTree.parse(report).iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        name = case.get("name", "")
        if not name or (problem is not None and "collection failure" in (problem.get("message") or "")):
            text = (problem.text or "") if problem is not None else ""
            return {}, _collection_lines(text, learner_file)
        match = _VARIANT.match(name)
        test, variant = (match["test"], match["variant"]) if match else (name, None)
        failure = "" if problem is None else f"{problem.get('message') or ''}\n{problem.text or ''}"
        for each in [variant] if variant else ["correct"] + [name for name, *_ in _all_bugs()]:
            results[test][each] = failure
    return dict(results), None


def _all_bugs() -> list[Bug]:
    return [bug for _, bugs in VARIANTS.values() for bug in bugs]


def _collection_lines(text: str, learner_file: Path) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    where = [line for line in lines if learner_file.name in line and ":" in line]
    return [(errors or lines or ["an error"])[-1], *where[-2:]]


def _describe_failure(failure: str) -> tuple[Status, str]:
    """(status, words): an assertion that does not hold is FAILED, any other exception an ERROR."""
    message, _, text = failure.partition("\n")
    where = re.findall(r"([\w./-]*test_\w+\.py):(\d+):", text)
    location = f" ({Path(where[-1][0]).name}, line {where[-1][1]})" if where else ""
    first = message.splitlines()[0] if message else "it failed"
    if first.startswith(("assert", "AssertionError")):
        return FAILED, f"{first}{location}"
    if first.startswith(("TimeoutError", "asyncio.exceptions.TimeoutError", "Failed: Timeout")):
        return FAILED, f"it waited for a frame that never came{location}"
    return ERROR, f"it raised {first}{location}"
