"""Helpers shared by test folders (``tests`` is on ``sys.path``: ``from support.http import call``)."""
