"""``polyalign report``: one self-contained HTML file from any run directory.

The run kinds are told by the files present (`discover`); each kind has a renderer (`sections`) built
from small HTML pieces (`html`, `markdown`) and figures drawn in memory (`charts`); `build` puts the
page together. Nested runs (a quickstart's evaluations, training and analyses; a sweep's runs) become
sections of their own.
"""

from polyalign.report.build import DEFAULT_NAME, build_report, render_report
from polyalign.report.discover import KINDS, Run, detect_kinds, find_runs

__all__ = ["build_report", "render_report", "find_runs", "detect_kinds", "Run", "KINDS", "DEFAULT_NAME"]
