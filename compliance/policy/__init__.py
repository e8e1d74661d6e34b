"""Policy as code: the KB's design predicates as CloudFormation Guard 3 rules and OPA Rego (v1) policies.

- :mod:`compliance.policy.compile`: which predicates a template's own resources can decide, compiled to a
  small clause form (conjunction of disjunctions of property tests) and rendered for each engine;
- :mod:`compliance.policy.export`: one policy file per mitigation, a manifest of what could not be expressed;
- :mod:`compliance.policy.run`: the real engines in-process (``guardpycfn``, ``regopy``) on a design's
  templates, every verdict compared with the design check's.
"""
