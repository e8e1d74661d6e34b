"""Policy as code: the KB's design predicates as CloudFormation Guard 3 rules and OPA Rego (v1) policies.

- :mod:`compliance.policy.compile`: which predicates each engine can decide: for Guard, those a function's own
  resource decides, compiled to a small clause form (conjunction of disjunctions of property tests); for Rego,
  those whose properties the policy library (``data/sckb_lib.rego``) derives, joins across resources included;
- :mod:`compliance.policy.export`: one policy file per mitigation (Rego: the library, its data tables and one
  function per sub-expression of each predicate), a manifest of what could not be expressed and why;
- :mod:`compliance.policy.run`: the real engines in-process (``guardpycfn``, ``regopy``) on a design's
  templates, every verdict compared with the design check's.
"""
