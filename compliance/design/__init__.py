"""Design check: read serverless infrastructure as code, build an architecture graph, evaluate the KB's
design predicates, derive control status and attack paths (``sckb design check``)."""

from __future__ import annotations

__all__: list[str] = []
