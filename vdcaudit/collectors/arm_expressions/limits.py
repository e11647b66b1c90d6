"""What bounds an evaluation and what it can end in: ARM's template limits, the work budget, the
errors, and `Unknown` (a value only known at deployment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TemplateExpressionError(Exception):
    """The expression is wrong: ARM itself would reject the template."""


class TemplateLimitError(Exception):
    """The template goes past a limit of ARM's (or of the evaluation budget): the file is refused."""


# ARM's documented template limits (learn.microsoft.com/azure/azure-resource-manager/templates/
# best-practices "Template limits"; error-job-size-exceeded): 4 MB template after expansion (values of
# variables and parameters included), 1 MB per resource definition, 800 per copy loop, 24,576
# characters per expression.
MAX_VALUE_CHARS = 4 * 1024 * 1024
MAX_RESOURCE_CHARS = 1024 * 1024
MAX_COPY_COUNT = 800
MAX_EXPRESSION_CHARS = 24_576
MAX_RANGE_COUNT = 10_000  # range(): "count ... up to 10000" (ARM template functions, array)
# vdcaudit's own bounds (ARM documents none): nesting of one expression, and the total work for a file.
MAX_EXPRESSION_DEPTH = 100
MAX_STEPS = 2_500_000  # a few seconds; the fixture needs 3,000, a 3.2 MB template of 790 NSGs 550,000
INT64 = 2 ** 63


@dataclass
class Budget:
    """Evaluation work for one template file: each function call, each value node measured and every
    256 characters of a built string cost one step."""

    limit: int = MAX_STEPS
    spent: int = 0

    def charge(self, steps: int) -> None:
        self.spent += steps
        if self.spent > self.limit:
            raise TemplateLimitError(
                f"evaluating the template's expressions took more than {self.limit:,} steps (vdcaudit's budget "
                "per template; values that double at every step end here)")


def measure(value: Any, budget: Budget, cap: int = MAX_VALUE_CHARS, what: str = "a value") -> int:
    """About how many characters `value` takes as JSON, walking it as a tree (a structure that reuses
    one part many times counts it every time, as ARM's expanded template would). Stops at `cap`."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
            budget.charge(1 + len(item) // 256)
        elif isinstance(item, dict):
            size += 2
            budget.charge(1)
            for key, child in item.items():
                size += len(str(key)) + 4
                stack.append(child)
        elif isinstance(item, list):
            size += 2
            budget.charge(1)
            stack.extend(item)
        else:
            size += 8
            budget.charge(1)
        if size > cap:
            raise TemplateLimitError(f"{what} grows past {cap:,} characters (ARM's template size limit)")
    return size


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known before deployment, and why."""

    reason: str
