"""Errors of the p4sim engine."""

from __future__ import annotations


class EngineError(Exception):
    """A program the engine cannot run (an unsupported construct, or a program that does
    not match its P4Info). The message starts with file:line:col where one is known."""
