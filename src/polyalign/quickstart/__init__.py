"""The quickstart: measure an English-centric model in other languages, align it, measure again.

`plan` sizes the run to a time budget, `measure` lays out the starter data and measures a model with
the eval/analysis engines, `pipeline` runs the resumable steps, `table` prints the before/after table.
"""
