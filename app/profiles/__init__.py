"""Exporter profiles: which metric names, labels, units and kinds answer each signal."""
