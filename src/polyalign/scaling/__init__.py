"""Scaling laws of translation data and budget allocation across languages (x-LLaMA; docs/methods.md).

`laws` defines the candidate curve forms, `fit` fits them per language and picks one by held-out
error, `allocate` splits a data budget across languages to maximise the fitted predictions, and
`plot` draws the fits, `sweep` runs the training grid the fits need, and `check` compares a plan's
predictions with the model trained on it. The CLI is `polyalign scaling sweep|fit|allocate|check`.
"""

from polyalign.scaling.allocate import Allocation, Objective, allocate, uniform_split
from polyalign.scaling.check import PredictionCheck, check_plan, read_eval_results
from polyalign.scaling.fit import (FITS_FORMAT, FitReport, LanguageFit, LawFit, fit_all, fit_language, fit_law,
                                   loo_rmse, read_fits, read_results, write_fits)
from polyalign.scaling.laws import LAWS, Curve, Law
from polyalign.scaling.plot import figure_for, fits_table, plot_fit

__all__ = [
    "LAWS", "Law", "Curve",
    "FITS_FORMAT", "LawFit", "LanguageFit", "FitReport", "read_results", "fit_law", "loo_rmse", "fit_language",
    "fit_all", "write_fits", "read_fits",
    "Allocation", "Objective", "allocate", "uniform_split", "PredictionCheck", "check_plan", "read_eval_results",
    "plot_fit", "figure_for", "fits_table",
]
