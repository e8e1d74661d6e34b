"""OSCAL 1.1.3 export (assessment plan, assessment results, POA&M, component definition), schema
validation with jsonschema-rs, reference and FedRAMP-constraint checks, and the SP 800-53 catalog import.

>>> from compliance.oscal import export, statements
>>> export(kb, assessment, Path("out/oscal"))           # doctest: +SKIP
>>> check_files([Path("out/oscal/poam.json")], constraints=load_constraints())   # doctest: +SKIP
>>> statements(Path(".sckb"))["AC-6"]                   # doctest: +SKIP  (after 'sckb catalog import')
"""

from compliance.assess.catalog import statements
from compliance.oscal.build import all_documents, assessment_plan, assessment_results, component_definition, poam
from compliance.oscal.catalog import import_catalog, parse_catalog
from compliance.oscal.check import Problem, check_documents, check_files, load_constraints
from compliance.oscal.export import dumps, export
from compliance.oscal.refs import broken_references
from compliance.oscal.validate import Validators, errors, validate

__all__ = [
    "Problem",
    "Validators",
    "all_documents",
    "assessment_plan",
    "assessment_results",
    "broken_references",
    "check_documents",
    "check_files",
    "component_definition",
    "dumps",
    "errors",
    "export",
    "import_catalog",
    "load_constraints",
    "parse_catalog",
    "poam",
    "statements",
    "validate",
]
