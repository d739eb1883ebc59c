"""Policy rules: the language, its compilation and its evaluation (docs/policy.md).

Rules live in an App's ``spec.policy.rules`` (scoped by grants, providers, principal kinds and
callers) and a Grant's ``spec.restrictions``; a caller may narrow one call further with the
``Strongroom-Narrow`` header. Every rule only restricts: a call must pass all that apply.

- the operator: :func:`to_wire` (or :func:`app_rules` and :func:`restrictions`) fills the
  compiled policy;
- the sidecar: :func:`compile_policy` once per policy update (pass the previous result to keep
  rate-limit and quota counts), :func:`parse_narrowing` for the header, then
  :meth:`CompiledRules.decide` per call;
- resource validation: :func:`check_app_rules` and :func:`check_restrictions`.
"""

from __future__ import annotations

from strongroom_core.rules import compiling, facts, narrowing, validating, wiring

CallFacts = facts.CallFacts
Decision = facts.Decision
DecisionCode = facts.DecisionCode
CompiledRules = compiling.CompiledRules
InvalidRules = compiling.InvalidRules
compile = compiling.compile
compile_policy = compiling.compile_policy
Narrowing = narrowing.Narrowing
NarrowingError = narrowing.NarrowingError
NARROW_HEADER = narrowing.HEADER
parse_narrowing = narrowing.parse
to_wire = wiring.to_wire
app_rules = wiring.app_rules
restrictions = wiring.restrictions
check_app_rules = validating.check_app_rules
check_restrictions = validating.check_restrictions

__all__ = [
    "NARROW_HEADER",
    "CallFacts",
    "CompiledRules",
    "Decision",
    "DecisionCode",
    "InvalidRules",
    "Narrowing",
    "NarrowingError",
    "app_rules",
    "check_app_rules",
    "check_restrictions",
    "compile",
    "compile_policy",
    "parse_narrowing",
    "restrictions",
    "to_wire",
]
