"""Differential interop harness: builds the Java side, starts reference and rocketpy servers, runs the driver.

Used by tests/interop (pytest fixtures) and interop/capture_golden.py. Nothing here is imported by rocketpy.
"""
