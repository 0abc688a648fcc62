"""Figures of every stage, drawn with matplotlib's non-interactive Agg backend.

``figures`` holds what all figures share (the backend, atomic saving, colour maps by name);
the other modules only draw one stage's figures each. No core module imports this package.
"""
