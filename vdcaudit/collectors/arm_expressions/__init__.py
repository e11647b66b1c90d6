"""ARM template language expressions: `[concat(parameters('prefix'), '-sql')]` and friends.

A tokenizer and a recursive-descent parser build a small tree; `evaluate` walks it in a `Scope`
that knows the template's parameters and variables and the deployment placeholders.

Values that only exist at deployment time (reference(), listKeys(), utcNow(), a parameter without a
value, a function vdcaudit does not implement) evaluate to an `Unknown` carrying the reason. Unknown
travels through the expression: any function that would need to look at it returns it, so a
property built from it stays unknown and the rule reports UNKNOWN instead of guessing. Functions
that only assemble structures (union, createObject, createArray, concat of arrays) keep the unknown
parts where they are, and `if`/`and`/`or`/`coalesce` decide without them when they can.

Mistakes in the template itself (a syntax error, a wrong argument count or type, a property read
from an object that lacks it) raise `TemplateExpressionError`: ARM would reject the template, and the
loader records the mistake where it happened and keeps judging the rest.

Hostile templates are bounded: every evaluation step and every value built is charged to a `Budget`
shared by the whole file, values are capped at ARM's own template size, copy counts at ARM's 800,
expressions at ARM's 24,576 characters. Going past a limit raises `TemplateLimitError`, which ends
the scan (exit 2) instead of letting a 2 KB template eat the machine.

The package: `limits` (bounds, errors, Unknown), `syntax` (tokenizer and parser), `evaluation` (Scope
and evaluate) and `functions` (the function library). What other modules use is named here.
"""

from vdcaudit.collectors.arm_expressions.evaluation import (
    NO_DEFAULT, Deployment, Scope, VariableLoop, copy_count, evaluate, evaluate_value, first_unknown, property_loops,
)
from vdcaudit.collectors.arm_expressions.limits import (
    MAX_COPY_COUNT, MAX_RESOURCE_CHARS, MAX_VALUE_CHARS, Budget, TemplateExpressionError, TemplateLimitError, Unknown,
    measure,
)
from vdcaudit.collectors.arm_expressions.syntax import Call, Literal, parse

__all__ = [
    "MAX_COPY_COUNT", "MAX_RESOURCE_CHARS", "MAX_VALUE_CHARS", "NO_DEFAULT", "Budget", "Call", "Deployment", "Literal",
    "Scope", "TemplateExpressionError", "TemplateLimitError", "Unknown", "VariableLoop", "copy_count", "evaluate",
    "evaluate_value", "first_unknown", "measure", "parse", "property_loops",
]
