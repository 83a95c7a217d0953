"""Differential fuzzing of the NVGRE pipeline: p4sim against bmv2's simple_switch_grpc.

``python -m fuzz`` (``make fuzz-bmv2``): see docs/fuzzing.md.
"""
