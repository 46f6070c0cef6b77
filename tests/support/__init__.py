"""What the tests share: fakes, fixtures' building blocks and helpers.

Test modules import from here (and use conftest fixtures), never from another test module
or from ``benchmarks``.
"""
