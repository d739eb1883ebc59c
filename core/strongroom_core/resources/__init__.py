"""The custom resources (App, Provider, Grant, Agent): typed models, parsing and validation.

- ``models``: frozen dataclasses; ``parsing.parse_resource`` builds them from a document;
- ``loading``: YAML text and folders to models or ``LoadFailure`` entries, one per document;
- ``validation``: the Python mirrors of the CRDs' CEL rules, ``check_immutable`` and
  ``check_references`` (cross-resource checks CEL cannot do);
- ``errors``: ``FieldError`` and ``ValidationError``, which name the field path;
- ``schemas`` and ``checking``: the CRD schemas (package copy of ``crds/``) and the structural
  checker that applies them.
"""
