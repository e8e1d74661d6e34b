"""Evidence: ingest scanner output and attestations into a verifiable store linked to the KB.

>>> from compliance.evidence.store import Store
>>> with Store.open(Path(".sckb")) as store:          # doctest: +SKIP
...     for f in store.findings(status="open"):
...         print(f.tool, f.rule_id, f.mitigations)
"""
