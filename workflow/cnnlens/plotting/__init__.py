"""Figures of every stage, drawn with matplotlib's non-interactive Agg backend.

``figures`` holds what all figures share (saving, tiling maps into a grid); the other modules
draw one stage's figures each.
"""
