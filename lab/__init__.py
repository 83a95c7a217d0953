"""The lab: network namespaces and veth pairs with a ledger, and switch targets started on them.

Used by the PTF suite, the tests, the demo, the benchmarks and the fuzzer; never by the
product (`nve`, `p4sim`), and not shipped in its wheel.
"""
