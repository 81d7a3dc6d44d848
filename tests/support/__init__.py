"""Helpers shared by the test suites: synthetic histograms and a real Prometheus."""
