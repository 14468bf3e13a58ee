"""Experiments: arms × an eval suite → one run folder per arm → comparisons and a report.

`polyalign.experiments.spec` reads experiment files, `graph` orders the arms, `fingerprint` tells a
finished arm from a changed one, `cost` prices the plan (``--dry-run``), `steps` calls the train /
eval / vocab / judge packages and `runner` drives it all with resumable state.
"""
